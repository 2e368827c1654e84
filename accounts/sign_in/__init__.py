"""Sign-in of a tenant's end users: everything between a typed email and a signed-in session.

Modules
-------
- ``adapter``: ``AccountAdapter`` (settings.ACCOUNT_ADAPTER), allauth's hooks: the password
  check through the lockout, the sign-in log rows of the password form, of disabled accounts
  and of successes, the list of login stages, the account emails.
- ``backend``: ``EmailBackend`` (settings.AUTHENTICATION_BACKENDS), one user lookup and one
  password hash per attempt.
- ``hasher``: ``TunedArgon2PasswordHasher`` (settings.PASSWORD_HASHERS). Its ``algorithm`` is
  Django's "argon2", the prefix of every stored hash: it must never change.
- ``lockout``: the smart lockout, counted in Redis; ``familiar``: browsers that signed in to
  an account before, counted apart by the lockout.
- ``stages``: the login stages and their order, ``LOGIN_STAGES``.

How a sign-in runs
------------------
1. The primary factor. A password is checked by ``AccountAdapter.authenticate`` before any
   stage runs (refused while locked, one hash, failures counted and logged). An emailed code
   is asked for and checked by allauth's ``LoginByCodeStage`` (a wrong code counts toward the
   lockout in ``accounts.forms.ConfirmLoginCodeForm``). A passkey is checked by
   ``mfa.passkey_views.sign_in``, which hands over to allauth's ``perform_login``. allauth
   records which it was in the session; ``stages.sign_in_method`` reads it for the sign-in log.
2. ``AccountAdapter.pre_login``: a disabled account is logged, and allauth stops there.
3. The login stages, in the order of ``stages.LOGIN_STAGES``, which the adapter's
   ``get_login_stages()`` returns as it is:

   a. ``LoginByCodeStage`` (allauth): the code, when the primary factor is one.
   b. ``UserFlowMethodStage``: the tenant's user flow still allows that method.
   c. conditional access stages (to come).
   d. ``PhoneVerificationStage`` (allauth): does nothing here (no phone field).
   e. ``EmailVerificationStage``: allauth's, under the tenant's rule (mandatory or optional
      for sign-ins; every sign-up waits for its link).
   f. MFA stages (to come).

4. ``AccountAdapter.login`` and ``post_login``: the session, the success row in the sign-in
   log, the familiar-browser cookie.

A stage is an ``allauth.account.stages.LoginStage`` with its own ``key`` whose ``handle()``
returns ``(response, go_on)``: ``(None, True)`` lets the sign-in go on; ``(response, True)``
shows a page and keeps the sign-in in the session, to resume at this stage (the stage's
``urlname`` page calls ``self.exit()`` when done); ``(response, False)`` ends the sign-in
(a block page). Every stage that stops or holds back a sign-in writes the sign-in log's row
itself (``audit.services.sign_in_record``, with ``sign_in_method``), and only then: the log
has one row for what happened, whichever stage decided it. A new stage is added to
``LOGIN_STAGES`` by its dotted path at the place marked for it.

Why conditional access and MFA go where they go
-----------------------------------------------
Conditional access comes after the primary factor and the user flow check, before email
verification and MFA. It decides on who signs in (known only once the primary factor is
proved) and from where; a sign-in it blocks ends before anything is sent (a verification
email) or asked (a second factor); and when its answer is "MFA required", it has to be
known before the MFA stage runs.

MFA comes last, after email verification, as in allauth's own default order (allauth.mfa's
``AuthenticateStage`` follows ``EmailVerificationStage``):

- In a tenant that makes verification mandatory, a person whose address is not verified
  cannot finish signing in whatever the second factor says. Asking for the second factor
  first is a step for nothing, and for someone without one yet, an enrolment on an account
  whose address nobody has proved: account pre-hijacking, where someone signs up with
  another person's address and attaches a factor of their own before the owner proves it.
- Verifying cannot skip MFA: the emailed link or code resumes the sign-in kept in the
  session (allauth's ``login_on_verification``), which runs the stages not yet handled,
  MFA included.
- In a tenant where verification is optional, sign-ins do not wait for it, so an MFA stage
  may still meet an unproved address. The first proof of an address
  (``accounts.services.account_first_proof``) removes a password set before it, whoever
  set it; it must remove the factors enrolled before it too.
"""
