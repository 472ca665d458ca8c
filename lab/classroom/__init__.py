"""Class sessions: one teacher, one lab server, many students' browsers on one cluster.

- ``session``: the open class (a file beside the run store): its name, the teacher key's salted hash (never
  the key), the students who joined, the lesson the teacher points everyone to, the board's hidden and
  highlighted runs.
- ``keyguard``: the teacher key checked in constant time, a few tries a minute per browser and in all.
- ``roles``: what a student may not do while a class is open (break brokers, cancel another's run).
- ``queue``: the fair run queue per cluster the launcher puts every run through while a class is open.

Outside a class none of this applies: the lab behaves as it does for one person.
"""
