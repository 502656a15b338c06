// Silent monitor on the wallboard: pick a call being talked (from the snapshot's operator
// rows) and listen to it through the browser phone (softphone.js), which plays the mix of
// both parties; the page's microphone is never sent on.
import { post } from "./live.js";

const $ = (id) => document.getElementById(id);
let listening = null;   // interaction id we listen to

function calls(board) {
  return board.operators.filter((o) => o.interaction_id != null && o.state === "busy");
}

function fill(board) {
  const select = $("monitor-call");
  const chosen = select.value;
  select.replaceChildren(new Option("—", ""));
  for (const o of calls(board)) {
    select.add(new Option(`${o.name} — #${o.interaction_id}`, String(o.interaction_id)));
  }
  if ([...select.options].some((opt) => opt.value === chosen)) select.value = chosen;
  if (listening != null && !calls(board).some((o) => o.interaction_id === listening)) {
    listening = null;  // the call ended: the server stopped the monitor
    show();
  }
}

function show() {
  $("monitor-stop").disabled = listening == null;
  $("monitor-status").textContent = listening == null ? ""
    : `${$("monitor-status").dataset.listening} #${listening}`;
}

async function act(fn) {
  try { await fn(); } catch (e) { $("monitor-status").textContent = e.message; }
}

$("monitor-start").onclick = () => act(async () => {
  const id = Number($("monitor-call").value);
  if (!id) return;
  if (listening != null) await fetch(`/api/v1/calls/${listening}/monitor`, {
    method: "DELETE", credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  await post(`/api/v1/calls/${id}/monitor`);
  listening = id;
  show();
});
$("monitor-stop").onclick = () => act(async () => {
  const id = listening;
  listening = null;
  show();
  await fetch(`/api/v1/calls/${id}/monitor`, {
    method: "DELETE", credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
});

document.addEventListener("hotline:frame", (e) => {
  if (e.detail.type === "wallboard.snapshot") fill(e.detail.data);
});
