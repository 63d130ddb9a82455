"""An organiser signs in, switches to Indonesian and works in Indonesian (Chromium)."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_organiser_signs_in_switches_to_indonesian_and_sees_the_dashboard(page, make_user, sign_in):
    organiser = make_user(roles=[Role.ORGANISER], name="Rika Aprianti", language="en")
    sign_in(page, organiser.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^ID")).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", name="Dasbor")).to_be_visible()
    expect(page.get_by_text("Selamat datang, Rika Aprianti.")).to_be_visible()
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()

    # The choice is remembered on the next page too.
    page.goto("/")
    expect(page.get_by_role("link", name="Dasbor")).to_be_visible()


def test_a_wrong_password_shows_a_clear_error_in_the_chosen_language(page, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    page.goto("/login")
    page.get_by_role("link", name=re.compile(r"^ID")).click()
    expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    page.get_by_label("Email").fill(organiser.email)
    page.get_by_label("Kata sandi").fill("not-the-password")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("alert")).to_have_text("Email atau kata sandi salah.")
    expect(page).to_have_url(re.compile(r"/login$"))
    # The email stays filled in, the password does not.
    expect(page.get_by_label("Email")).to_have_value(organiser.email)
    expect(page.get_by_label("Kata sandi")).to_have_value("")


def test_an_admin_sets_up_an_authenticator_app_at_first_sign_in(page, make_user):
    admin = make_user(roles=[Role.ADMIN], two_factor=False)
    page.goto("/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    # No other page opens before the app is set up.
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
    page.goto("/account/two-factor")

    secret = page.locator("code.totp-secret").inner_text()
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("This code is not valid. Please try again.")).to_be_visible()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved my codes: continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_wrong_second_factor_code_keeps_the_organiser_out(page, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    page.goto("/login")
    page.get_by_label("Email").fill(organiser.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Code").fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This code is not valid. Please try again.")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
