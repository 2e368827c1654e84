// OAuth 2.0 Form Post Response Mode: send the answer to the app without a click.
document.getElementById("form-post-response").submit();
