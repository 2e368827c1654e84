// The slug check (htmx) replaces what the page says about the slug; the input's invalid
// state follows it, so that a fixed slug no longer looks wrong.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id !== "slug-availability") {
    return;
  }
  const input = document.getElementById("id_slug");
  const invalid = event.detail.target.querySelector("#id_slug_error") !== null;
  input.classList.toggle("is-invalid", invalid);
  if (invalid) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
});
