"""Logging in and out: the ``auth`` blueprint, Flask-Login's manager, Flask-WTF's CSRF protection.

``/connexion`` shows the login form (GET) and checks it (POST) through
:func:`geo.accounts.users.authenticate` (argon2, growing waits after repeated failures,
audit log), then sends each user to the page of his scope (:func:`web.access.home_url`).
Every refusal says the same sentence (``BAD_CREDENTIALS``), whether the address is
unknown, the password wrong or the account slowed. Failed logins are also limited per
client address (web/limits.py).

A browser where an account logged in gets a signed mark (the cookie ``psq_navigateur``,
``KNOWN_BROWSER_DAYS`` days): the wait after failed logins does not apply there, so
that whoever guesses at an account from elsewhere never keeps its owner out.
``/deconnexion`` takes POST only, with the CSRF token like every form and every JSON
POST of the app (scripts send it as the ``X-CSRFToken`` header, read from
``<meta name="csrf-token">`` in base.html).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from geo.accounts import users as accounts
from geo.accounts.users import Account, LoginRefused
from geo.db.unit_of_work import transaction
from web.access import ROLE_LABELS, home_url, is_api_request
from web.db import get_db
from web.limits import LOGIN_REFUSED, client_address, failed_login, limiter, login_limit

BAD_CREDENTIALS = ("Adresse ou mot de passe incorrect, ou trop d'essais récents pour ce compte : "
                   "vérifiez-les, ou réessayez dans quelques minutes.")
KNOWN_BROWSER_COOKIE = "psq_navigateur"
KNOWN_BROWSER_DAYS = 90
#: The accounts a browser's mark remembers (several people may share a computer).
KNOWN_BROWSER_ACCOUNTS = 5

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


def _browser_marks() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="psq-known-browser")


def known_accounts() -> list[int]:
    """The accounts that logged in from this browser before (its signed mark), newest first."""
    mark = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not mark:
        return []
    try:
        ids = _browser_marks().loads(mark, max_age=KNOWN_BROWSER_DAYS * 86400)
    except BadSignature:
        return []
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def _remember_browser(response, account_id: int):
    ids = [account_id] + [i for i in known_accounts() if i != account_id]
    response.set_cookie(KNOWN_BROWSER_COOKIE, _browser_marks().dumps(ids[:KNOWN_BROWSER_ACCOUNTS]),
                        max_age=KNOWN_BROWSER_DAYS * 86400, httponly=True, samesite="Strict",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=client_address, methods=["POST"], deduct_when=failed_login,
               error_message=LOGIN_REFUSED)
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(home_url(current_user.scope))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            account = accounts.authenticate(get_db(), form.email.data, form.password.data, ip=request.remote_addr,
                                            known_accounts=known_accounts())
        except LoginRefused:
            error = BAD_CREDENTIALS
        else:
            target = _safe_next(request.args.get("next"))
            session.clear()  # nothing from before the login survives it
            session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME without a request
            login_user(LoginUser(account))
            return _remember_browser(redirect(target or home_url(account.scope)), account.id)
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
