"""Every lesson, in the course's order, and how to find one."""

from __future__ import annotations

from lab.core.errors import SettingsError
from lab.lessons import consumer, eos, lag, producer, replication, share
from lab.lessons.base import Lesson

#: id -> lesson, phase by phase
LESSONS: dict[str, Lesson] = {
    lesson.id: lesson
    for lesson in sorted((*replication.LESSONS, *eos.LESSONS, *producer.LESSONS, *consumer.LESSONS, *lag.LESSONS,
                          *share.LESSONS),
                         key=lambda x: x.phase)
}


def get(lesson_id: str) -> Lesson:
    """The lesson ``lesson_id``; ``SettingsError`` listing the known ids otherwise."""
    try:
        return LESSONS[lesson_id]
    except KeyError:
        raise SettingsError(f"No lesson is called {lesson_id!r}.",
                            hint=f"Known lessons: {', '.join(LESSONS)} (`kafka-lab lesson list`).") from None


def for_page(page: str) -> list[Lesson]:
    """The lessons a page's Lesson panel offers, in the course's order."""
    return [lesson for lesson in LESSONS.values() if lesson.page == page]
