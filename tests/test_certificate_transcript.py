"""The continuing-education proof (继续教育证明): what the ledger credits in a year
or a registration cycle, with its own serial; asked again unchanged, the same proof."""

from __future__ import annotations

from datetime import date

import pytest

from courses.db import db
from courses.errors import ValidationFailed
from courses.models import CertificateKind, QualificationLevel
from courses.services import certificates, hours
from courses.services.certificates import pdf
from tests.certificate_helpers import completed_course
from tests.factories import make_admin, make_user
from workers import relay


def test_a_year_lists_the_credited_courses_and_outside_hours(app_ctx):
    _, course, users, _ = completed_course(names=("陈喆",))
    learner = users[0]
    hours.add_external_hours(make_admin(), learner, "市社协讲座", 3, date(2025, 6, 1))
    db.session.commit()
    proof = certificates.request_transcript(learner, year=2025)
    db.session.commit()
    assert proof.kind == CertificateKind.TRANSCRIPT
    facts = proof.facts
    titles = [row["title"] for row in facts["courses"]]
    assert titles == [course.title, "市社协讲座（院外）"]
    assert facts["period_label"] == "2025年度"
    assert float(facts["credited_hours"]) == pytest.approx(5.34 + 3, abs=0.01)
    assert "陈喆" in pdf.sentence(facts) and "2025年度" in pdf.sentence(facts)
    # Asked again with nothing changed: the same proof, not a new number.
    assert certificates.request_transcript(learner, year=2025).id == proof.id
    db.session.commit()
    relay.drain(app_ctx)
    db.session.expire_all()
    assert proof.pdf_key is not None


def test_a_cycle_prints_the_requirement_of_the_level(app_ctx):
    _, _, users, _ = completed_course()
    learner = users[0]
    learner.qualification_level = QualificationLevel.SOCIAL_WORKER
    learner.cycle_starts_on = date(2025, 1, 1)  # 2025–2027 holds the course
    db.session.commit()
    proof = certificates.request_transcript(learner, cycle=True)
    assert proof.facts["qualification_label"] == "社会工作师"
    assert proof.facts["required_hours"] == "90"
    assert "至" in proof.facts["period_label"]


def test_nothing_to_prove_is_refused_with_a_reason(app_ctx):
    learner = make_user()
    with pytest.raises(ValidationFailed) as refused:
        certificates.request_transcript(learner, year=2025)
    assert refused.value.code == "no_hours"
    with pytest.raises(ValidationFailed) as no_cycle:
        certificates.request_transcript(learner, cycle=True)
    assert no_cycle.value.code == "no_cycle"
    with pytest.raises(ValidationFailed):
        certificates.request_transcript(learner, year=1999)
