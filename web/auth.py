"""Logging in and out: the ``auth`` blueprint, Flask-Login's manager, Flask-WTF's CSRF protection.

``/connexion`` shows the login form (GET) and checks it (POST) through
:func:`geo.accounts.users.authenticate` (argon2, lockout after repeated failures, audit
log), then sends each user to the page of his scope (:func:`web.access.home_url`).
``/deconnexion`` takes POST only, with the CSRF token like every form and every JSON
POST of the app (scripts send it as the ``X-CSRFToken`` header, read from
``<meta name="csrf-token">`` in base.html).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from geo.accounts import users as accounts
from geo.accounts.users import Account, LoginRefused
from geo.db.unit_of_work import transaction
from web.access import ROLE_LABELS, home_url, is_api_request
from web.db import get_db

BAD_CREDENTIALS = "Adresse ou mot de passe incorrect."

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"
csrf = CSRFProtect()


class LoginUser(UserMixin):
    """The Flask-Login user: an account of app_user, loaded again on every request."""

    def __init__(self, account: Account):
        self.account = account

    def get_id(self) -> str:
        # The stamp changes with the password: a new password ends the other sessions.
        return f"{self.account.id}:{self.account.credential_stamp}"

    @property
    def is_active(self) -> bool:
        return self.account.active

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.account.role]

    @property
    def scope(self) -> accounts.UserScope:
        return self.account.scope

    @property
    def label(self) -> str:
        return self.account.label


@login_manager.user_loader
def load_user(session_id: str) -> LoginUser | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    account = accounts.get_user(get_db(), int(user_id))
    if account is None or not account.active or account.credential_stamp != stamp:
        return None
    return LoginUser(account)


@login_manager.unauthorized_handler
def unauthorized():
    """Anonymous: 401 JSON under /api/, else the login page (back to the page asked afterwards)."""
    if is_api_request():
        return jsonify(error="Authentification requise."), 401
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if target and target != "/":
        flash("Connectez-vous pour accéder à cette page.")
        return redirect(url_for("auth.login", next=target))
    return redirect(url_for("auth.login"))


class LoginForm(FlaskForm):
    email = StringField("Adresse électronique", validators=[DataRequired("Saisissez votre adresse électronique.")],
                        render_kw={"autocomplete": "username", "autofocus": True, "type": "email"})
    password = PasswordField("Mot de passe", validators=[DataRequired("Saisissez votre mot de passe.")],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField("Se connecter")


def _safe_next(target: str | None) -> str | None:
    r"""A path of this site to go back to after login; anything else (another host) is dropped.

    >>> [_safe_next(t) for t in ("/csp/CSP%20Belfort?date=2024-06-01", "//evil.example", "/\\evil.example",
    ...                          "/\t/evil.example", "https://evil.example/", None)]
    ['/csp/CSP%20Belfort?date=2024-06-01', None, None, None, None, None]
    """
    # Browsers drop tabs and newlines from URLs ("/\t/evil.example" is "//evil.example").
    if not target or not target.isprintable() or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _locked_message(refused: LoginRefused) -> str:
    minutes = 1
    if refused.locked_until is not None:
        left = (refused.locked_until - datetime.now(timezone.utc)).total_seconds()
        minutes = max(1, math.ceil(left / 60))
    return (f"Ce compte est verrouillé après {accounts.LOCKOUT_FAILURES} échecs de connexion : "
            f"réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(home_url(current_user.scope))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            account = accounts.authenticate(get_db(), form.email.data, form.password.data,
                                            ip=request.remote_addr)
        except LoginRefused as refused:
            error = _locked_message(refused) if refused.reason == "locked" else BAD_CREDENTIALS
        else:
            target = _safe_next(request.args.get("next"))
            session.clear()  # nothing from before the login survives it
            session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME without a request
            login_user(LoginUser(account))
            return redirect(target or home_url(account.scope))
    return render_template("login.html", form=form, error=error)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        with transaction(get_db()) as conn:
            accounts.end_sessions(conn, current_user.account.id)  # a cookie saved before no longer opens it
            accounts.audit(conn, "logout", user_id=current_user.account.id, target=current_user.account.email,
                           ip=request.remote_addr)
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.")
    return redirect(url_for("auth.login"))


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    message = "Le jeton de sécurité (CSRF) est absent ou a expiré : rechargez la page et recommencez."
    if is_api_request():
        return jsonify(error=message), 400
    return render_template("error.html", code=400, message=message), 400
