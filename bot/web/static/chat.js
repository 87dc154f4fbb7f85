// Family web chat: send a message, show replies and quick replies, receive later messages live
// (an advocate's reply, an update), and leave quickly if needed.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var choicesBox = document.getElementById("choices");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var exitButton = document.getElementById("quick-exit");
  var queue = Promise.resolve();
  var shown = {};  // message ids already on the page: a message is never shown twice
  var events = null;
  var leaving = false;

  var words = { from_team: document.body.dataset.fromTeam };
  var picked = null;  // the numbers and labels of a pick-several question, as toggled

  function bubble(text, who, id, caption) {
    if (id !== undefined && id !== null) {
      if (shown[id]) return false;
      shown[id] = true;
    }
    var div = document.createElement("div");
    div.className = "msg " + who;
    if (caption) {
      var from = document.createElement("span");
      from.className = "from";
      from.textContent = caption;
      div.appendChild(from);
    }
    div.appendChild(document.createTextNode(text));
    log.appendChild(div);
    window.scrollTo(0, document.body.scrollHeight);
    return true;
  }

  function showChoices(reply) {
    choicesBox.innerHTML = "";
    if (!reply || !reply.choices || !reply.choices.length) return;
    reply.choices.forEach(function (choice, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = choice.label;
      if (reply.many && choice.value !== "__skipped__") {
        // Several may be picked: buttons toggle, then the person presses Send.
        b.setAttribute("aria-pressed", "false");
        b.addEventListener("click", function () {
          b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
          var numbers = [], labels = [];
          choicesBox.querySelectorAll("button[aria-pressed=true]").forEach(function (x) {
            numbers.push(x.dataset.n);
            labels.push(x.textContent);
          });
          input.value = numbers.join(" ");
          picked = { numbers: input.value, labels: labels.join(", ") };
        });
      } else {
        b.addEventListener("click", function () { send(String(i + 1), choice.label); });
      }
      b.dataset.n = String(i + 1);
      choicesBox.appendChild(b);
    });
  }

  // Messages are sent one after another, so two quick taps are answered in order.
  function send(text, shownText) {
    bubble(shownText || text, "me");
    return post("/chat/send", { text: text });
  }

  function post(path, body) {
    choicesBox.innerHTML = "";
    queue = queue.then(function () {
      return fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(body)
      }).then(function (r) { return r.json(); }).then(function (data) {
        if (data.page) followLanguage(data.page);
        var replies = data.replies || [];
        replies.forEach(function (r) { bubble(r.text, "bot", r.id); });
        showChoices(replies[replies.length - 1]);
        if (data.since) listen(data.since);
      }).catch(function () { bubble("…", "bot"); });
    });
    return queue;
  }

  // Messages sent later (a person from our team, an update) arrive here while the page is open.
  // EventSource reconnects by itself and says which message it had last (Last-Event-ID).
  function listen(since) {
    if (events || !window.EventSource) return;
    events = new EventSource("/chat/events?since=" + encodeURIComponent(since));
    events.addEventListener("message", function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      // A person from our team (or the review) wrote this: say so above it.
      bubble(m.text, m.author === "bot" ? "bot" : "bot team", m.id, m.author === "bot" ? null : words.from_team);
    });
  }

  // Once the person has chosen a language, the page speaks it too, right to left where needed.
  function followLanguage(page) {
    document.documentElement.lang = page.lang;
    document.documentElement.dir = page.dir;
    document.title = page.t.title;
    document.getElementById("title").textContent = page.t.title;
    exitButton.textContent = page.t.exit;
    exitButton.title = page.t.exit_hint;
    document.getElementById("notice").textContent = page.t.safety + " " + page.t.shared_device;
    document.getElementById("hint").textContent = page.t.exit_hint;
    document.getElementById("return-hint").textContent = page.t.return_hint;
    document.getElementById("send").textContent = page.t.send;
    words.from_team = page.t.from_team;
    input.placeholder = page.t.placeholder;
    input.setAttribute("aria-label", page.t.placeholder);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    // The person sees the options they picked, not the numbers sent for them.
    send(text, picked && picked.numbers === text ? picked.labels : null);
    picked = null;
  });

  function quickExit() {
    if (leaving) return;
    leaving = true;
    if (events) events.close();
    log.innerHTML = "";
    choicesBox.innerHTML = "";
    input.value = "";
    try { navigator.sendBeacon("/chat/exit"); } catch (e) { /* leave anyway */ }
    // replace(): the chat is not left in the back-button history.
    window.location.replace(exitButton.dataset.url);
  }
  exitButton.addEventListener("click", quickExit);
  var lastEsc = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEsc < 1000) quickExit();
    lastEsc = now;
  });

  // Opening the page greets a new person, or shows someone returning where they were; it never
  // sends a message on their behalf.
  post("/chat/start", {});
})();
