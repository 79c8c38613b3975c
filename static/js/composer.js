// Enhancements for writing posts. Every action also works without this file:
// the preview appears after posting, and Reply/Quote links open the reply page.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Live preview: render with the same server function that saving uses.
  document.querySelectorAll("section.preview[data-preview-for]").forEach(function (section) {
    var form = section.closest("form");
    var textarea = form && form.querySelector("textarea[name=raw]");
    if (!textarea) { return; }
    var body = section.querySelector(".preview-body");
    var errors = section.querySelector(".preview-errors");
    var identifiers = section.querySelector(".preview-identifiers");
    var timer = null;
    // What may identify a patient, listed as text nodes (never as HTML): the author's own words.
    function showIdentifiers(result) {
      if (!identifiers) { return; }
      var found = result.identifiers || [];
      identifiers.hidden = found.length === 0;
      identifiers.querySelector("p").textContent = result.held ? identifiers.dataset.held : identifiers.dataset.maybe;
      var list = identifiers.querySelector("ul");
      list.textContent = "";
      found.forEach(function (item) {
        var li = document.createElement("li");
        var mark = document.createElement("mark");
        mark.textContent = item.value;
        li.appendChild(document.createTextNode(item.label + ": "));
        li.appendChild(mark);
        list.appendChild(li);
      });
    }
    var sequence = 0;
    function render() {
      var mine = ++sequence;
      if (!textarea.value.trim()) { section.hidden = true; return; }
      var data = new FormData();
      data.append("raw", textarea.value);
      fetch(section.dataset.previewUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) }
      }).then(function (response) {
        return response.json();
      }).then(function (result) {
        if (mine !== sequence) { return; }  // a newer preview is on its way
        section.hidden = false;
        if (result.html !== undefined) {
          body.innerHTML = result.html;  // sanitized by the server's one allowlist
          errors.textContent = "";
          showIdentifiers(result);
        } else {
          errors.textContent = (result.errors || []).join(" ");
        }
      }).catch(function () { /* preview is optional; posting still works */ });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 300);
    });
    if (textarea.value.trim()) { render(); }
  });

  var replyForm = document.getElementById("reply");
  if (!replyForm) { return; }
  var replyText = replyForm.querySelector("textarea[name=raw]");
  var replyTo = replyForm.querySelector("input[name=reply_to]");
  var replyingTo = replyForm.querySelector(".replying-to");

  function startReply(post) {
    if (replyTo) { replyTo.value = post.dataset.postNumber; }
    if (replyingTo) {
      replyingTo.textContent = replyingTo.dataset.template
        ? replyingTo.dataset.template.replace("%s", post.dataset.postNumber)
        : "#" + post.dataset.postNumber;
      replyingTo.hidden = false;
    }
  }

  function insertQuote(post, text) {
    var quoted = text.trim().split("\n").map(function (line) { return "> " + line; }).join("\n");
    var prefix = replyText.value && !replyText.value.endsWith("\n") ? "\n\n" : "";
    replyText.value += prefix + "@" + post.dataset.author + ":\n" + quoted + "\n\n";
    startReply(post);
    replyText.focus();
    replyText.dispatchEvent(new Event("input"));
  }

  document.querySelectorAll("a[data-reply-to]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      startReply(link.closest("article.post"));
      replyText.focus();
    });
  });

  // Quote: the selected text if it lies inside the post, else the whole post needs the server.
  document.querySelectorAll("a[data-quote]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var post = link.closest("article.post");
      var selection = window.getSelection();
      var text = selection ? selection.toString() : "";
      if (!text.trim() || !post.contains(selection.anchorNode)) { return; }  // follow the link
      event.preventDefault();
      insertQuote(post, text);
    });
  });

  // A "Quote selection" button appears next to text selected in a post.
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-small quote-selection";
  button.textContent = replyForm.dataset.quoteLabel || "Quote";
  button.hidden = true;
  document.body.appendChild(button);
  var selectedPost = null;
  var selectedText = "";
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    var text = selection ? selection.toString() : "";
    var node = selection && selection.anchorNode;
    var post = node && (node.nodeType === 1 ? node : node.parentElement);
    post = post && post.closest(".post-body") && post.closest("article.post");
    if (!text.trim() || !post) { return; }
    selectedPost = post;
    selectedText = text;
    var rect = selection.getRangeAt(0).getBoundingClientRect();
    button.style.top = (window.scrollY + rect.bottom + 6) + "px";
    button.style.left = (window.scrollX + rect.left) + "px";
    button.hidden = false;
  });
  document.addEventListener("mousedown", function (event) {
    if (event.target !== button) { button.hidden = true; }
  });
  button.addEventListener("click", function () {
    if (selectedPost) { insertQuote(selectedPost, selectedText); }
    button.hidden = true;
  });
})();
