import { connect, post, pageData, duration, sawServerTime, serverNow } from "./live.js";
import { onOffer, onScreenPop, scriptPath, showOwnKpis, refreshOwnKpis, goReady, readyAllowed }
  from "./desktop_extras.js";

const page = pageData();
const $ = (id) => document.getElementById(id);
let state = { state: "offline", since: 0 };
let offer = null;      // the offer frame's data while ringing or talking
let call = null;       // the latest call frame's data
let wrapFor = null;    // interaction being wrapped up

function setState(d) {
  state = d;
  const label = page.states[d.state] ?? d.state;
  $("state").textContent = d.reason ? `${label} (${page.reasons[d.reason] ?? d.reason})` : label;
  $("state").dataset.state = d.state;
}

function showOffer(d) {
  offer = d;
  $("offer").hidden = false;
  $("greeting").textContent = d.greeting;
  $("offer-hotline").textContent = d.hotline;
  $("offer-queue").textContent = d.queue;
  $("offer-caller").textContent = d.caller ?? "—";
  $("offer-contact").textContent = "…";
  $("offer-hint").hidden = false;
  $("call").hidden = true;
  fillTopics(d.hotline_id);
  onOffer(d);
}

function fillTopics(hotlineId) {
  const lists = page.topics[String(hotlineId)] ?? { topics: [], outcomes: [] };
  for (const [id, items] of [["topic", lists.topics], ["outcome", lists.outcomes]]) {
    const sel = $(id);
    sel.replaceChildren(new Option("—", ""));
    for (const [value, name] of items) sel.add(new Option(name, value));
  }
}

function showScreenPop(d) {
  if (offer && d.interaction_id !== offer.interaction_id) return;
  $("offer-contact").textContent = d.contact ? d.contact.name + (d.contact.vip ? " ★ VIP" : "")
                                             : $("offer-contact").dataset.unknown;
  const body = $("history").querySelector("tbody");
  body.replaceChildren();
  for (const h of d.history) {
    const tr = body.insertRow();
    const when = new Date(h.started_at * 1000).toLocaleString(page.locale);
    for (const v of [when, h.hotline, h.topic ?? "—", h.outcome ?? "—", h.operator ?? "—", h.notes]) {
      tr.insertCell().textContent = v;
    }
  }
  $("history").hidden = d.history.length === 0;
  $("history-none").hidden = d.history.length !== 0;
  onScreenPop(d);
}

function showCall(d) {
  call = d;
  // the wait ended when the call was answered: stop counting it
  if (offer && offer.interaction_id === d.interaction_id && offer.answered_at == null) {
    offer.answered_at = serverNow();
  }
  $("call").hidden = d.phase === "wrap_up" || d.phase === "ended";
  $("offer-hint").hidden = true;
  $("call-phase").textContent = page.phases[d.phase] ?? d.phase;
  $("hold").disabled = d.phase !== "talking";
  $("resume").disabled = d.phase !== "held";
  if (d.phase === "wrap_up" || (d.phase === "ended" && wrapFor !== d.interaction_id)) {
    if (wrapFor !== d.interaction_id) {
      wrapFor = d.interaction_id;
      if (d.hotline_id != null) fillTopics(d.hotline_id);
      $("wrapup-status").textContent = "";
      $("wrapup-extend").disabled = false;
      $("notes").value = "";
    }
    $("wrapup").hidden = false;
    $("wrapup").dataset.endsAt = d.wrap_up_ends_at ?? "";
  }
  $("wrapup-extend").hidden = d.phase !== "wrap_up";
  if (d.phase === "ended") { $("offer").hidden = true; $("wrapup").dataset.endsAt = ""; offer = null; }
}

function tick() {
  const now = serverNow();
  $("state-time").textContent = state.since ? duration(now - state.since) : "";
  if (offer && offer.queued_at) {
    $("offer-wait").textContent = duration((offer.answered_at ?? now) - offer.queued_at);
  }
  const ends = parseFloat($("wrapup").dataset.endsAt);
  $("wrapup-left").textContent = Number.isFinite(ends) ? duration(ends - now) : "—";
  // a hotline that requires topic and outcome keeps the operator in wrap-up past the
  // countdown (engine Rule 8): say why nothing happens at 0:00
  $("wrapup-held").hidden = !(Number.isFinite(ends) && ends <= now && state.state === "wrap_up");
}

connect("/ws/desktop", (f) => {
  sawServerTime(f.at);
  document.dispatchEvent(new CustomEvent("hotline:frame", { detail: f }));  // softphone.js
  switch (f.type) {
    case "desktop.state": setState(f.data); if (f.data.state === "ready") readyAllowed(); break;
    case "desktop.offer": showOffer(f.data); break;
    case "desktop.offer_cancelled":
      if (offer && offer.interaction_id === f.data.interaction_id && !call) {
        offer = null; $("offer").hidden = true;
      }
      break;
    case "desktop.screen_pop": showScreenPop(f.data); break;
    case "desktop.call": showCall(f.data); break;
    case "desktop.kpis":
      $("kpi-handled").textContent = f.data.handled;
      $("kpi-aht").textContent = duration(f.data.aht);
      refreshOwnKpis();
      break;
  }
  tick();
});
setInterval(tick, 250);

async function act(fn) {
  try { await fn(); } catch (e) { console.error(e); alert(e.message); }
}
$("go-ready").onclick = () => act(async () => {
  const refused = await goReady();  // the reason is shown next to the button
  if (refused && wrapFor == null) {  // e.g. after a reload: reopen that call's wrap-up
    wrapFor = refused.interaction_id;
    fillTopics(refused.hotline_id);
    $("wrapup").hidden = false;
  }
});
$("go-not-ready").onclick = () =>
  act(() => post("/api/v1/agent/state", { state: "not_ready", reason: $("reason").value }));
$("go-offline").onclick = () => act(() => post("/api/v1/agent/state", { state: "offline" }));
for (const what of ["hold", "resume", "hangup"]) {
  $(what).onclick = () => act(() => post(`/api/v1/calls/${call.interaction_id}/${what}`));
}
$("transfer").onclick = () => act(() =>
  post(`/api/v1/calls/${call.interaction_id}/transfer`, { queue_id: Number($("transfer-queue").value) }));
// an outside number: the caller hears music while it rings; if nobody answers the call
// comes back here (the phase shows it)
$("transfer-out").onclick = () => act(() =>
  post(`/api/v1/calls/${call.interaction_id}/transfer`, { number: $("transfer-number").value }));
$("wrapup-extend").onclick = () => act(async () => {
  $("wrapup-extend").disabled = true;  // once per call; the new end comes as a frame
  await post("/desktop/wrapup/extend");
});
$("wrapup-form").onsubmit = (e) => {
  e.preventDefault();
  const topic = $("topic").value, outcome = $("outcome").value;
  if (!topic || !outcome) { $("wrapup-status").textContent = $("wrapup-status").dataset.required; return; }
  act(async () => {
    const saved = await post("/desktop/wrapup", {
      interaction_id: wrapFor, topic_id: Number(topic), outcome_id: Number(outcome),
      notes: $("notes").value, script: scriptPath(),
    });
    $("wrapup-status").textContent = $("wrapup-status").dataset.saved;
    if (saved?.kpis) showOwnKpis(saved.kpis);
    readyAllowed();
  });
};
