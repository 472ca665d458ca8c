"""``python -m lab.consumer.member``: one member process of an N-process consumer benchmark
(``lab.consumer.members``, which starts, feeds and stops it)."""

from lab.consumer.members import child_main

if __name__ == "__main__":
    child_main()
