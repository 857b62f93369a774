// The progress line of a change being published (GET /publish/status): what the build is doing now, then that it is
// done and the assistant answers from the new index within seconds, or that it failed and the old index serves.
(function () {
  var line = document.getElementById("build-status");
  if (!line) { return; }
  var text = line.querySelector(".build-text");
  function show(status) {
    text.textContent = status.text || "";
    line.dataset.state = status.state;
    line.classList.toggle("error", status.state === "failed");
    line.hidden = !status.text;
    if (status.state === "running") { window.setTimeout(poll, 700); }
  }
  function poll() {
    fetch(line.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) { if (status) { show(status); } })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  if (line.dataset.state === "running") { poll(); }
})();
