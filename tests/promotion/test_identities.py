"""Who someone is in git: confirmed identities decide who may approve; roles and
identities are re-checked whenever the gates are read, at promote time too."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from releases import candidates, identities
from releases.errors import ActionRefused
from releases.gates import gate_approvals, gate_facts
from releases.models import Approval, AuditEvent, GitIdentity

pytestmark = pytest.mark.django_db

AUTHOR = "pat@pipeline.example"  # the test world's commit author and committer


def give_identity(user, email, admin):
    identity = identities.identity_add(actor=admin, user=user, email=email)
    identities.identity_confirm(actor=admin, identity=identity)


def test_an_approver_without_a_confirmed_identity_is_refused(validated, users):
    GitIdentity.objects.filter(user=users["rm-ben"]).delete()
    identities.identity_add(actor=users["rm-ben"], user=users["rm-ben"], email="ben@x.example")
    with pytest.raises(ActionRefused, match="no confirmed git identity"):
        candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    assert not Approval.objects.exists()


@pytest.mark.parametrize("email", ["PAT@Pipeline.Example", "pat+ci@pipeline.example"])
def test_the_author_rule_uses_confirmed_identities_case_insensitively(validated, users, email):
    # rm-ben's account e-mail is unrelated; an admin confirmed that he also commits as
    # the author of this candidate's commits (another case, or a +alias).
    give_identity(users["rm-ben"], email, users["admin"])
    with pytest.raises(ActionRefused, match="authored or committed"):
        candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])


def test_an_unconfirmed_identity_does_not_count_but_a_confirmed_one_does(
    validated, users, django_capture_on_commit_callbacks
):
    identities.identity_add(actor=users["rm-ben"], user=users["rm-ben"], email=AUTHOR)
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=validated, actor=users["admin"])
    validated.refresh_from_db()
    assert gate_approvals(gate_facts(candidate=validated)).ok
    # Once an admin confirms it, rm-ben turns out to be an author: his approval lapses.
    other_admin = users["admin"]
    identities.identity_confirm(actor=other_admin, identity=GitIdentity.objects.get(email=AUTHOR))
    gate = gate_approvals(gate_facts(candidate=validated))
    assert not gate.ok and "1 of 2" in gate.detail and "authored" in gate.detail


def test_an_approver_who_lost_the_role_no_longer_counts_at_promote_time(
    approved, users, django_capture_on_commit_callbacks
):
    users["rm-ben"].groups.set([Group.objects.get(name="viewer")])
    approved.refresh_from_db()
    gate = gate_approvals(gate_facts(candidate=approved))
    assert not gate.ok and "no longer holds a role" in gate.detail
    with pytest.raises(ActionRefused, match="Approvals"):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ana"])
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_a_deactivated_approver_no_longer_counts(approved, users):
    identities.user_deactivate(actor=users["admin"], user=users["rm-ben"])
    assert not gate_approvals(gate_facts(candidate=approved)).ok


def test_identities_are_unique_whatever_the_case_and_confirmed_by_another_admin(users):
    with pytest.raises(ActionRefused, match="already someone's"):
        identities.identity_add(
            actor=users["admin"], user=users["viewer"], email="RM-ANA@ewsdash.example"
        )
    mine = identities.identity_add(actor=users["admin"], user=users["admin"], email="a@b.example")
    with pytest.raises(ActionRefused, match="Another admin"):
        identities.identity_confirm(actor=users["admin"], identity=mine)
    theirs = identities.identity_add(
        actor=users["viewer"], user=users["viewer"], email="v@b.example"
    )
    with pytest.raises(ActionRefused, match="role"):
        identities.identity_confirm(actor=users["rm-ana"], identity=theirs)
    identities.identity_confirm(actor=users["admin"], identity=theirs)
    theirs.refresh_from_db()
    assert theirs.confirmed_by == users["admin"] and theirs.confirmed_at <= timezone.now()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("identity.added") == 2 and "identity.confirmed" in actions


def test_the_admin_confirms_identities(login, users):
    theirs = identities.identity_add(
        actor=users["viewer"], user=users["viewer"], email="v@b.example"
    )
    response = login("admin").post_form(
        "/admin/releases/gitidentity/",
        {"action": "confirm", "_selected_action": [theirs.pk], "index": 0},
    )
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.is_confirmed
