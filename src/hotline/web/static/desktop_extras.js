// The desktop's script panel, knowledge-base search, contact and callback forms, the offer
// e-mail, the operator's own KPIs and the ready refusal (templates/_desktop_extras.html).
// desktop.js calls onOffer/onScreenPop, sends scriptPath() with the wrap-up (so the path
// taken is stored with the interaction), shows showOwnKpis()/refreshOwnKpis() and goes
// ready through goReady().
const $ = (id) => document.getElementById(id);
const extras = JSON.parse($("desktop-extras-data").textContent);
const hotlines = new Map(extras.hotlines.map((h) => [h.id, h]));

let script = null;   // the script shown
let choices = [];    // [{step, answer, label}] taken so far
let offered = null;  // the offer's data while there is one

async function send(method, url, body) {
  const r = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(data?.message ?? `${url}: ${r.status}`);
  return data;
}

function hotline() { return hotlines.get(Number($("extras-hotline").value)) ?? null; }

// -- script ---------------------------------------------------------------------------------

function fillScripts() {
  const h = hotline();
  const pick = $("script-pick");
  pick.replaceChildren(...(h?.scripts ?? []).map((s) => new Option(s.name, s.id)));
  $("script-none").hidden = pick.options.length > 0;
  startScript();
}

function startScript() {
  const h = hotline();
  script = (h?.scripts ?? []).find((s) => String(s.id) === $("script-pick").value) ?? null;
  choices = [];
  renderStep();
}

function currentStep() {
  if (!script) return null;
  if (!choices.length) return script.start_step;
  const last = choices[choices.length - 1];
  return script.steps[last.step].answers[last.answer].next ?? null;
}

function renderStep() {
  const stepId = currentStep();
  const step = stepId ? script.steps[stepId] : null;
  $("script-step").hidden = !script;
  $("script-text").textContent = step ? step.text : "";
  $("script-end").hidden = !script || (step?.answers?.length ?? 0) > 0;  // no answers: the end
  $("script-answers").replaceChildren(...(step?.answers ?? []).map((a, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = a.label;
    b.onclick = () => { choices.push({ step: stepId, answer: i, label: a.label }); renderStep(); };
    return b;
  }));
  $("script-back").disabled = choices.length === 0;
  $("script-path").textContent = choices.length ? choices.map((c) => c.label).join(" → ") : "—";
}

export function scriptPath() {
  if (!script || !choices.length) return null;
  return { script_id: script.id, choices: choices.map(({ step, answer }) => ({ step, answer })) };
}

// -- knowledge base -------------------------------------------------------------------------

async function searchKb(e) {
  e.preventDefault();
  const h = hotline();
  if (!h) return;
  const q = new URLSearchParams({ q: $("kb-q").value, hotline_id: h.id });
  const r = await fetch(`/api/v1/kb-articles/search?${q}`, { credentials: "same-origin" });
  const data = await r.json();
  const list = $("kb-results");
  $("kb-error").hidden = r.ok;
  $("kb-error").textContent = r.ok ? "" : data.message;
  const items = r.ok ? data.items : [];
  list.replaceChildren(...items.map((a) => {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = a.title;
    const text = document.createElement("div");
    text.textContent = a.snippet;
    li.append(title, text);
    li.dataset.id = a.id;
    return li;
  }));
  $("kb-none").hidden = !r.ok || items.length > 0;
}

// -- contact --------------------------------------------------------------------------------

const split = (v) => v.split(",").map((x) => x.trim()).filter(Boolean);

function fillContact(c, phone) {
  $("contact-form").dataset.id = c?.id ?? "";
  $("contact-which").textContent = c?.name || $("contact-which").dataset.new;
  $("contact-name").value = c?.name ?? "";
  $("contact-phones").value = (c?.phones ?? (phone ? [phone] : [])).join(", ");
  $("contact-emails").value = (c?.emails ?? []).join(", ");
  $("contact-notes").value = c?.notes ?? "";
  $("contact-vip").checked = c?.vip ?? false;
  $("contact-status").textContent = "";
  showRecipient();
}

async function saveContact(e) {
  e.preventDefault();
  const id = $("contact-form").dataset.id;
  const body = {
    name: $("contact-name").value, phones: split($("contact-phones").value),
    emails: split($("contact-emails").value), notes: $("contact-notes").value,
    vip: $("contact-vip").checked,
  };
  try {
    const saved = await send(id ? "PATCH" : "POST", id ? `/api/v1/contacts/${id}` : "/api/v1/contacts", body);
    fillContact(saved);
    $("contact-status").textContent = $("contact-status").dataset.saved;
    if (offered) $("offer-contact").textContent = saved.name + (saved.vip ? " ★ VIP" : "");
  } catch (err) { $("contact-status").textContent = err.message; }
}

// -- callback -------------------------------------------------------------------------------

async function saveCallback(e) {
  e.preventDefault();
  const h = hotline();
  const body = { hotline_id: h.id, number: $("callback-number").value, at_local: $("callback-when").value };
  const contact = $("contact-form").dataset.id;
  if (contact) body.contact_id = Number(contact);
  if (offered && offered.hotline_id === h.id) body.interaction_id = offered.interaction_id;
  try {
    await send("POST", "/api/v1/callbacks", body);
    $("callback-status").textContent = $("callback-status").dataset.saved;
  } catch (err) { $("callback-status").textContent = err.message; }
}

// -- offer e-mail ---------------------------------------------------------------------------

function fillOffers() {
  const pick = $("offer-mail-template");
  const offers = hotline()?.offers ?? [];
  pick.replaceChildren(...offers.map((o) => new Option(`${o.name} (${o.language})`, o.id)));
  $("offer-mail-none").hidden = offers.length > 0;
  $("offer-mail-send").disabled = offers.length === 0;
}

function showRecipient() {
  $("offer-mail-to").textContent = split($("contact-emails").value)[0] ?? "—";
}

async function sendOffer(e) {
  e.preventDefault();
  const status = $("offer-mail-status");
  if (!offered) { status.textContent = status.dataset.noCall; return; }
  $("offer-mail-send").disabled = true;
  status.textContent = "…";
  try {
    const sent = await send("POST", `/api/v1/interactions/${offered.interaction_id}/send-offer`,
                            { template_id: Number($("offer-mail-template").value) });
    status.textContent = `${status.dataset.sent}: ${sent.to}`;
  } catch (err) { status.textContent = err.message; }
  finally { $("offer-mail-send").disabled = false; }
}

// -- own KPIs and the ready refusal ----------------------------------------------------------

export function showOwnKpis(k) {
  const pct = k.sl_answered == null ? "—" : `${Math.round(k.sl_answered * 100)} %`;
  $("kpi-sl").textContent = pct;
  $("kpi-sl").title = `${k.answered_within} / ${k.answered}`;
  $("kpi-sales").textContent = k.sales;
  $("kpi-leads").textContent = k.leads;
}

export async function refreshOwnKpis() {
  try { showOwnKpis(await send("GET", "/desktop/kpis")); } catch (err) { console.error(err); }
}

// "ready" may be refused until the last call's wrap-up is saved (wrap_up_rule.py): the
// reason goes next to the button; the refused interaction's details go back to desktop.js
export async function goReady() {
  const r = await fetch("/api/v1/agent/state", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
    body: JSON.stringify({ state: "ready" }),
  });
  const data = await r.json();
  const box = $("ready-error");
  box.hidden = r.ok;
  if (r.ok) { box.textContent = ""; return null; }
  const refused = data.error_id === "wrap_up_required" ? data.details?.[0] ?? null : null;
  box.textContent = refused
    ? box.dataset.wrapUp.replace("{id}", refused.interaction_id) +
      (refused.caller ? ` (${refused.caller})` : "")
    : data.message ?? `${r.status}`;
  box.title = data.message ?? "";
  return refused;
}

export function readyAllowed() { $("ready-error").hidden = true; $("ready-error").textContent = ""; }

// -- hooks from desktop.js ------------------------------------------------------------------

export function onOffer(d) {
  offered = d;
  if (hotlines.has(d.hotline_id)) { $("extras-hotline").value = String(d.hotline_id); hotlineChanged(); }
  fillContact(null, d.caller);
  $("callback-number").value = d.caller ?? "";
  $("callback-status").textContent = "";
  $("offer-mail-status").textContent = "";
}

export async function onScreenPop(d) {
  if (!d.contact) return;
  try { fillContact(await send("GET", `/api/v1/contacts/${d.contact.id}`)); } catch (err) { console.error(err); }
}

function hotlineChanged() {
  $("callback-zone").textContent = hotline() ? `(${hotline().timezone})` : "";
  fillScripts();
  fillOffers();
}

$("extras-hotline").onchange = hotlineChanged;
$("script-pick").onchange = startScript;
$("script-restart").onclick = startScript;
$("script-back").onclick = () => { choices.pop(); renderStep(); };
$("kb-form").onsubmit = (e) => searchKb(e).catch((err) => console.error(err));
$("contact-form").onsubmit = saveContact;
$("callback-form").onsubmit = saveCallback;
$("offer-mail-form").onsubmit = sendOffer;
$("contact-emails").oninput = showRecipient;
hotlineChanged();
