from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from accounts.models import Source


class SignupForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
    workspace_name = forms.CharField(max_length=200, label="Company or workspace name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if get_user_model().objects.filter(username=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200, initial="Segment")
    kind = forms.ChoiceField(choices=Source.Kind.choices, initial=Source.Kind.SEGMENT)
