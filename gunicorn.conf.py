"""gunicorn's settings, read from the working directory by `gunicorn ciam.wsgi`.

Command-line options win over these. Access logging is off unless asked for
(`--access-logfile -`); when on, its lines carry the request id and never a URL secret
(invitation tokens, reset keys, codes, tokens: ciam.log_redaction.GunicornLogger).
"""

logger_class = "ciam.log_redaction.GunicornLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
worker_class = "gthread"
threads = 4
