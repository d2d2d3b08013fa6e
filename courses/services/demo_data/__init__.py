"""Realistic, deterministic demo data: one year of the Social Work Academy of 关爱桂城.

The data is modelled on the academy's own year: 15 organisations of Guicheng
subdistrict (Nanhai, Foshan), the newcomer and innovation-camp programmes, themed
trainings and topical seminars — 42 courses totalling exactly 160 class hours —
about 300 learners and some 3,600 participant-times, online and offline.

Everything comes from ``random.Random`` generators with fixed seeds, so the same
``year``, ``scale`` and moment of loading give the same rows, ids included. What has
"already happened" depends on that moment: sessions that ended before ``now`` carry
attendance, later ones are open for enrolment. A past year is therefore complete and
fully reproducible. The only random-by-design values are security material (password
hash salts and session nonces), which must never be predictable.

``scale`` multiplies the academy: scale N runs N intakes (期) of every programme and
course, each with its own trainers and learners; intake 1 is identical at any scale.

This is a bulk loader for the command line (``academy seed-demo`` and ``academy demo``):
rows are written with Core ``INSERT`` statements in batches, with ids chosen here, all in
the caller's one transaction, so that a failure leaves nothing half-loaded. Like every
service, :func:`seed` does not commit; the command does, and then runs
:func:`refresh_statistics` (``ANALYZE``) so that the planner knows the tables' sizes.

This module is the interface; the parts live beside it: ``catalogue`` (the year as
data), ``people`` (demo accounts, names and phone numbers), ``loader`` (:func:`seed`
and the intake-by-intake run), ``users`` (organisations, accounts, trainers and
learners), ``courses`` (programmes, courses, sessions, drafts), ``rosters``
(enrolments, attendance, feedback), ``parts`` (what those loaders share: the year's
clock, the writer, the summary), ``bulk_writer`` (batched inserts), ``intake`` (the
loader's working state) and ``summary`` (:class:`SeedSummary`).
"""

from courses.services.demo_data.loader import current_year, is_empty, refresh_statistics, seed
from courses.services.demo_data.people import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from courses.services.demo_data.summary import SeedSummary

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DemoAccount",
    "SeedSummary",
    "current_year",
    "is_empty",
    "refresh_statistics",
    "seed",
]
