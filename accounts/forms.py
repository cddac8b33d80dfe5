from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from accounts.models import Membership, Source


class AccountForm(forms.Form):
    """An email and a password for a new account, with or without an invitation."""

    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)

    # Whether the email already has an account is not checked here: the reply must not tell.
    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        email = self.cleaned_data.get("email", "")
        # The would-be user, so that a password like the email is refused.
        validate_password(password, user=get_user_model()(username=email, email=email))
        return password


class SignupForm(AccountForm):
    workspace_name = forms.CharField(max_length=200, label="Company or workspace name")


class InvitedSignupForm(AccountForm):
    """Signup through an invitation: the account joins the inviting workspace."""


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200, initial="Segment")
    kind = forms.ChoiceField(choices=Source.Kind.choices, initial=Source.Kind.SEGMENT)


class InvitationForm(forms.Form):
    # Any role is valid input; whether this inviter may give it is accounts/team.py's call (403).
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
