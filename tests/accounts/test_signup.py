import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.models import Membership, Workspace
from accounts.views import SIGNED_UP


@pytest.fixture(autouse=True)
def _fast_password_hashes(settings):
    # Dozens of logins per test: the production hasher's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def open_signup(settings):
    settings.WINDSOR_SIGNUP = "open"


def signup(client, email: str, password: str = "a-long-pass-phrase", **extra):
    data = {"email": email, "password": password, "workspace_name": "Newco"}
    return client.post(reverse("signup"), data, follow=True, **extra)


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_signup_creates_a_workspace_then_the_user_logs_in(client, db, open_signup):
    response = signup(client, "New@Example.com")
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert shown_messages(response) == [SIGNED_UP.format(email="new@example.com")]
    assert client.login(username="new@example.com", password="a-long-pass-phrase")
    assert client.get(reverse("sources:list")).context["request"].workspace.name == "Newco"


def test_signup_with_a_taken_email_gets_the_same_reply_and_changes_nothing(
    client, owner, workspace, password, open_signup
):
    taken = signup(client, "Owner@Example.com", password="another-long-phrase")
    fresh = signup(client, "fresh@example.com", password="another-long-phrase")

    assert taken.redirect_chain == fresh.redirect_chain == [(reverse("login"), 302)]
    assert shown_messages(taken) == [SIGNED_UP.format(email="owner@example.com")]
    assert shown_messages(fresh) == [SIGNED_UP.format(email="fresh@example.com")]
    assert b"already" not in taken.content
    owner.refresh_from_db()
    assert owner.check_password(password)
    assert Membership.objects.filter(user=owner).count() == 1
    assert Workspace.objects.count() == 2


@pytest.mark.parametrize("password", ["owner@example.com", "owner@example", "12345678901"])
def test_a_password_like_the_email_or_all_digits_is_refused(client, db, open_signup, password):
    response = signup(client, "owner@example.com", password=password)
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not get_user_model().objects.exists()


def test_invite_mode_refuses_signup_and_says_it_is_by_invitation(client, db, settings):
    settings.WINDSOR_SIGNUP = "invite"
    assert client.get(reverse("signup")).status_code == 403
    response = signup(client, "new@example.com")
    assert response.status_code == 403
    assert b"by invitation" in response.content
    assert not get_user_model().objects.exists()
    assert reverse("signup").encode() not in client.get(reverse("login")).content


def test_closed_mode_refuses_signup(client, db, settings):
    settings.WINDSOR_SIGNUP = "closed"
    response = signup(client, "new@example.com")
    assert response.status_code == 403
    assert b"closed" in response.content
    assert not get_user_model().objects.exists()
    assert reverse("signup").encode() not in client.get(reverse("login")).content


def test_login_page_links_to_signup_only_when_it_is_open(client, db, open_signup):
    assert reverse("signup").encode() in client.get(reverse("login")).content


def test_signups_from_one_ip_are_throttled(client, db, open_signup, settings):
    attempts, window = settings.THROTTLE_SIGNUPS_PER_IP
    for n in range(attempts):
        assert signup(client, f"user{n}@example.com", REMOTE_ADDR="198.51.100.7").status_code == 200
    response = signup(client, "one-more@example.com", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == window
    assert not get_user_model().objects.filter(username="one-more@example.com").exists()
    # Another address is not affected.
    assert signup(client, "elsewhere@example.com", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_signups_for_one_email_are_throttled(client, db, open_signup, settings):
    attempts, _ = settings.THROTTLE_SIGNUPS_PER_EMAIL
    for n in range(attempts):
        signup(client, "probe@example.com", REMOTE_ADDR=f"198.51.100.{n + 1}")
    response = signup(client, "probe@example.com", REMOTE_ADDR="198.51.100.99")
    assert response.status_code == 429
