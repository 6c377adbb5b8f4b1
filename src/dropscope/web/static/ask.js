// dropscope Ask page: streams the answer instead of reloading the page. Without this
// script the form is a plain GET to /ask, answered server-side. The answer is text: it is
// put in the page as text nodes (markers as links built with the DOM), never as HTML.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form || !window.fetch || !window.TextDecoder) { return; }
  var box = document.getElementById("ask-q");
  var section = document.getElementById("answer");
  var textEl = document.getElementById("answer-text");
  var howEl = document.getElementById("answer-how");
  var listEl = document.getElementById("citations");
  var button = form.querySelector('button[type="submit"]');
  var running = null;

  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }

  function showError(message) {
    var old = document.getElementById("ask-error");
    if (old) { old.parentNode.removeChild(old); }
    box.removeAttribute("aria-invalid");
    box.setAttribute("aria-describedby", "ask-hint");
    if (!message) { return; }
    var p = document.createElement("p");
    p.className = "form-error";
    p.id = "ask-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    form.appendChild(p);
    box.setAttribute("aria-invalid", "true");
    box.setAttribute("aria-describedby", "ask-hint ask-error");
  }

  // One line of answer text, its [n] markers as links to the numbered sources.
  function appendLine(parent, line, known) {
    var re = /\[(\d{1,3})\]/g, at = 0, m;
    while ((m = re.exec(line)) !== null) {
      if (!known[m[1]]) { continue; }
      if (m.index > at) { parent.appendChild(document.createTextNode(line.slice(at, m.index))); }
      var sup = document.createElement("sup");
      var a = document.createElement("a");
      a.className = "marker";
      a.href = "#cite-" + m[1];
      a.setAttribute("aria-label", "source " + m[1]);
      a.textContent = m[0];
      sup.appendChild(a);
      parent.appendChild(sup);
      at = re.lastIndex;
    }
    if (at < line.length) { parent.appendChild(document.createTextNode(line.slice(at))); }
  }

  function renderText(text, citations) {
    var known = {};
    citations.forEach(function (c) { known[String(c.n)] = true; });
    clear(textEl);
    text.trim().split(/\n\s*\n/).forEach(function (block) {
      if (!block.trim()) { return; }
      var p = document.createElement("p");
      var lines = block.split("\n").filter(function (l) { return l.trim() !== ""; });
      lines.forEach(function (line, i) {
        if (i > 0) { p.appendChild(document.createElement("br")); }
        appendLine(p, line, known);
      });
      textEl.appendChild(p);
    });
  }

  function renderCitations(citations) {
    clear(listEl);
    if (!citations.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "No source is cited.";
      listEl.appendChild(none);
      return;
    }
    citations.forEach(function (c) {
      var li = document.createElement("li");
      li.id = "cite-" + c.n;
      li.value = c.n;
      var title;
      if (c.href) {
        title = document.createElement("a");
        title.href = c.href;  // a dashboard path built by the server (/projects/..., ...)
      } else {
        title = document.createElement("span");
      }
      title.textContent = c.title;
      li.appendChild(title);
      li.appendChild(document.createTextNode(" "));
      var id = document.createElement("span");
      id.className = "meta";
      id.textContent = c.id;
      li.appendChild(id);
      if (c.quote) {
        var q = document.createElement("blockquote");
        q.textContent = c.quote;
        li.appendChild(q);
      }
      listEl.appendChild(li);
    });
  }

  function how(done) {
    var note = done.offline ? " (" + done.offline + ")" : "";
    if (done.mode === "structured") { return "Answered from the database." + note; }
    if (done.mode === "retrieval") {
      return "Written by the " + done.generator + " generator from the passages cited." + note;
    }
    return "Nothing in the data answers this." + note;
  }

  // Server-Sent Events from a fetch body: blocks of "event: x" / "data: {...}" lines.
  function parseBlock(block) {
    var ev = "message", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) { ev = line.slice(7); }
      else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
    });
    try { return { event: ev, data: data ? JSON.parse(data) : {} }; }
    catch (e) { return { event: "error", data: { message: "the answer could not be read" } }; }
  }

  function ask(question) {
    if (running) { running.abort(); }
    var controller = window.AbortController ? new AbortController() : null;
    running = controller;
    var text = "", sources = [], finished = false;
    showError("");
    clear(textEl);
    clear(listEl);
    howEl.textContent = "";
    section.hidden = false;
    section.setAttribute("aria-busy", "true");
    button.disabled = true;

    function handle(msg) {
      if (msg.event === "citations") {
        sources = msg.data.citations || [];
        renderCitations(sources);  // the candidates; `done` keeps the ones cited
      } else if (msg.event === "delta") {
        text += msg.data.text || "";
        renderText(text, sources);
      } else if (msg.event === "done") {
        finished = true;
        renderText(msg.data.answer || text, msg.data.citations || []);
        renderCitations(msg.data.citations || []);
        howEl.textContent = how(msg.data);
      } else if (msg.event === "error") {
        finished = true;
        if (!text) { section.hidden = true; }
        showError(msg.data.message || "the answer failed");
      }
    }

    function end() {
      section.setAttribute("aria-busy", "false");
      button.disabled = false;
      if (running === controller) { running = null; }
    }

    var url = "/ask/stream?q=" + encodeURIComponent(question);
    fetch(url, { headers: { accept: "text/event-stream" }, signal: controller ? controller.signal : undefined })
      .then(function (response) {
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) {
              if (buffer.trim()) { handle(parseBlock(buffer)); }
              return;
            }
            buffer += decoder.decode(chunk.value, { stream: true });
            var cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              handle(parseBlock(buffer.slice(0, cut)));
              buffer = buffer.slice(cut + 2);
            }
            return pump();
          });
        }
        return pump();
      })
      .then(function () {
        if (!finished) { showError("the answer stopped before it was complete; try again"); }
        end();
      }, function (err) {
        if (err && err.name === "AbortError") { return; }
        showError("the answer could not be fetched; try again");
        end();
      });
  }

  form.addEventListener("submit", function (event) {
    var question = box.value.trim();
    event.preventDefault();
    if (!question) {
      showError("type a question first");
      box.focus();
      return;
    }
    // the same URL the plain form would load, so it can be shared and reloaded
    var url = "/ask?q=" + encodeURIComponent(question);
    if (window.history && history.pushState) { history.pushState({ q: question }, "", url); }
    document.title = question + " · Ask · dropscope";
    ask(question);
  });
  window.addEventListener("popstate", function () { window.location.reload(); });
})();
