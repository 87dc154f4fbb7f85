// Web chat: send a voice note, photo or document (POST /chat/upload, the file as the body) and show
// the replies. Options after an upload are sent by their number, as the rest of the chat does.
(function () {
  "use strict";
  var picker = document.getElementById("attach");
  if (!picker) return;
  var log = document.getElementById("log");
  var choicesBox = document.getElementById("choices");
  var input = document.getElementById("text");
  var queue = Promise.resolve();

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    window.scrollTo(0, document.body.scrollHeight);
  }

  function showChoices(reply) {
    choicesBox.innerHTML = "";
    if (!reply || !reply.choices.length) return;
    reply.choices.forEach(function (choice, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = choice.label;
      b.dataset.n = String(i + 1);
      if (reply.many && choice.value !== "__skipped__") {
        // Several may be picked: buttons toggle, then the person presses Send.
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
          var picked = [];
          choicesBox.querySelectorAll("button[aria-pressed=true]").forEach(function (x) { picked.push(x.dataset.n); });
          input.value = picked.join(" ");
        });
      } else {
        b.addEventListener("click", function () {
          bubble(choice.label, "me");
          post("/chat/send", { "Content-Type": "application/json" }, JSON.stringify({ text: String(i + 1) }));
        });
      }
      choicesBox.appendChild(b);
    });
  }

  function post(path, headers, body) {
    choicesBox.innerHTML = "";
    queue = queue.then(function () {
      return fetch(path, { method: "POST", credentials: "same-origin", headers: headers, body: body })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var replies = data.replies || [];
          replies.forEach(function (r) { bubble(r.text, "bot"); });
          showChoices(replies[replies.length - 1]);
        }).catch(function () { bubble("…", "bot"); });
    });
  }

  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    picker.value = "";
    if (!file) return;
    bubble(file.name, "me file");
    post("/chat/upload", { "Content-Type": file.type || "application/octet-stream" }, file);
  });
})();
