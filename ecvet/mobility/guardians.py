"""Who acts for a learner today: the learner, and their parent or guardian only while the learner is a
minor by the engine's clock, so the guardian's access ends by itself on the 18th birthday (issue 16)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, or_

from ecvet.mobility.models import Learner
from ecvet.mobility.vocabulary import ADULT_AGE
from engine.models import utcnow


def today() -> date:
    """Today's date in UTC by the engine's clock (tests freeze it)."""
    return utcnow().date()


def adult_if_born_on_or_before(on: date) -> date:
    """The latest date of birth of someone who is 18 or older on ``on``: born later, a minor.

    Born on 29 February, one comes of age on 1 March in a year without it (as :meth:`Learner.age_on`
    counts), so on 28 February of such a year the cut-off is 28 February, not 29."""
    try:
        return on.replace(year=on.year - ADULT_AGE)
    except ValueError:  # 29 February, 18 years earlier was not a leap year
        return on.replace(year=on.year - ADULT_AGE, day=28)


def guardian_acts(learner: Learner, on: date | None = None) -> bool:
    """The learner's guardian (an account on record) acts for them on ``on`` (today): a minor's only."""
    return learner.guardian_user_id is not None and learner.is_minor(on or today())


def acts_for(user_id: int, on: date | None = None) -> ColumnElement[bool]:
    """SQL: the learner row is the user's own, or the user's ward's while the ward is a minor."""
    cutoff = adult_if_born_on_or_before(on or today())
    return or_(Learner.user_id == user_id,
               and_(Learner.guardian_user_id == user_id, Learner.date_of_birth > cutoff))


def came_of_age_with_guardian(on: date | None = None) -> ColumnElement[bool]:
    """SQL: learners with a guardian's account on record who are 18 or older on ``on``."""
    return and_(Learner.guardian_user_id.is_not(None),
                Learner.date_of_birth <= adult_if_born_on_or_before(on or today()))


def eighteenth_birthday(learner: Learner) -> date:
    """The day the learner comes of age (1 March for those born on 29 February, in a common year)."""
    born = learner.date_of_birth
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return born.replace(year=born.year + ADULT_AGE, day=28) + timedelta(days=1)
