// The live conversation: new lines by server-sent events, replies through the staff API.
(() => {
  const view = document.getElementById("transcript");
  const id = view.dataset.handoff;
  const speakers = {resident: "住户", bot: "物业助手"};
  const append = (line) => {
    const row = document.createElement("div");
    const kind = line.from === "resident" ? "resident" : line.from === "bot" ? "bot" : "staff";
    row.className = "line " + kind;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speakers[line.from] || line.from;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = line.text;
    row.append(who, text);
    view.append(row);
    view.scrollTop = view.scrollHeight;
  };
  view.scrollTop = view.scrollHeight;
  if (view.dataset.live === "yes") {
    const stream = new EventSource(`/api/handoffs/${id}/stream?after=${view.dataset.count}`);
    stream.addEventListener("line", (event) => append(JSON.parse(event.data)));
    stream.addEventListener("closed", () => {
      stream.close();
      document.getElementById("ended").hidden = false;
      document.getElementById("status").textContent = "已结束";
      for (const form of document.querySelectorAll("form#reply, form[action$='/close']")) form.hidden = true;
    });
  }
  const form = document.getElementById("reply");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = document.getElementById("reply-text");
      const error = document.getElementById("reply-error");
      const response = await fetch(`/api/handoffs/${id}/reply`, {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({text: box.value}),
      });
      if (response.ok) {
        box.value = "";
        error.hidden = true;
      } else {
        const body = await response.json().catch(() => ({}));
        error.textContent = typeof body.detail === "string" ? body.detail : "发送失败，请重试。";
        error.hidden = false;
      }
    });
  }
})();
