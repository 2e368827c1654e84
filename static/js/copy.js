// Copy buttons: a button with data-copy="ID" copies the text (or input value) of element ID.
// The buttons start hidden: without JavaScript, or without a clipboard (plain http), they
// stay hidden and the values remain ordinary selectable text.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  var status = document.getElementById("copy-status");
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.tagName === "INPUT" ? source.value : source.textContent;
      navigator.clipboard.writeText(text).then(
        function () {
          if (status) {
            status.textContent = button.getAttribute("data-copied") || "";
          }
        },
        function () {
          if (status) {
            status.textContent = button.getAttribute("data-failed") || "";
          }
          if (source.tagName === "INPUT") {
            source.select();
          }
        }
      );
    });
  });
})();
