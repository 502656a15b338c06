import { connect, post, pageData, duration, sawServerTime, serverNow } from "./live.js";

const page = pageData();
let board = null, boardAt = 0;
const pct = (v) => (v == null ? "—" : `${Math.round(v * 100)} %`);
const secs = (v) => (v == null ? "—" : v.toFixed(1));

function render() {
  if (!board) return;
  const now = serverNow();
  const qBody = document.querySelector("#queues tbody");
  qBody.replaceChildren();
  for (const q of board.queues) {
    const tr = qBody.insertRow();
    tr.dataset.queue = q.id;
    const th = document.createElement("th");
    th.scope = "row"; th.textContent = `${q.hotline} — ${q.name}`; tr.append(th);
    const longest = q.longest_wait == null ? null : q.longest_wait + (now - boardAt);
    const cells = {
      waiting: q.waiting, longest_wait: duration(longest), offered: q.offered,
      answered: q.answered, abandoned: q.abandoned, sl: pct(q.sl), asa: secs(q.asa), aht: secs(q.aht),
    };
    for (const [k, v] of Object.entries(cells)) {
      const td = tr.insertCell(); td.dataset.k = k; td.textContent = v;
      if (k === "longest_wait" && q.longest_wait != null) {
        td.dataset.base = q.longest_wait; td.dataset.limit = q.callback_threshold;
      }
      // alerts: SL under its target; a caller waiting past the callback threshold
      if (k === "sl" && q.sl != null && q.sl < q.sl_target) td.classList.add("alert");
      if (k === "longest_wait" && longest != null && longest > q.callback_threshold) {
        td.classList.add("alert");
      }
    }
  }
  renderWaiting(now);
  const oBody = document.querySelector("#operators tbody");
  const focused = document.activeElement?.id;
  // a snapshot must not undo what the supervisor is choosing
  const chosen = new Map([...oBody.querySelectorAll("select")].map((el) => [el.id, el.value]));
  oBody.replaceChildren();
  for (const o of board.operators) {
    const tr = oBody.insertRow();
    tr.dataset.operator = o.id;
    const th = document.createElement("th"); th.scope = "row"; th.textContent = o.name; tr.append(th);
    const st = tr.insertCell(); st.dataset.k = "state"; st.dataset.state = o.state;
    const label = page.states[o.state] ?? o.state;
    st.textContent = o.reason ? `${label} (${page.reasons[o.reason] ?? o.reason})` : label;
    const since = tr.insertCell(); since.dataset.k = "since"; since.dataset.since = o.since;
    since.textContent = duration(now - o.since);
    const action = tr.insertCell();
    const sel = document.createElement("select");
    sel.id = `set-${o.id}`;
    sel.setAttribute("aria-label", `${page.set_state}: ${o.name}`);
    for (const s of ["ready", "not_ready", "offline"]) sel.add(new Option(page.states[s], s));
    if (chosen.has(sel.id)) sel.value = chosen.get(sel.id);
    const btn = document.createElement("button");
    btn.type = "button"; btn.textContent = page.apply; btn.id = `apply-${o.id}`;
    btn.onclick = async () => {
      try {
        const body = { state: sel.value };
        if (sel.value === "not_ready") body.reason = "break";
        await post(`/api/v1/operators/${o.id}/state`, body);
      } catch (e) { alert(e.message); }
    };
    action.append(sel, " ", btn);
  }
  if (focused) document.getElementById(focused)?.focus();
}

// Who waits in each queue, in the order they will be served, each with a control to move
// the caller to another queue of the board (POST /api/v1/interactions/{id}/move).
function renderWaiting(now) {
  const box = document.getElementById("waiting");
  const w = page.waiting;
  const focused = document.activeElement?.id;
  const chosen = new Map([...box.querySelectorAll("select")].map((el) => [el.id, el.value]));
  box.replaceChildren();
  const queues = board.queues.filter((q) => q.calls && q.calls.length);
  if (!queues.length) {
    const p = document.createElement("p"); p.className = "muted"; p.textContent = w.none;
    box.append(p);
    return;
  }
  for (const q of queues) {
    const table = document.createElement("table");
    table.className = "grid waiting"; table.dataset.queue = q.id;
    const cap = table.createCaption(); cap.textContent = `${q.hotline} — ${q.name}`;
    const head = table.createTHead().insertRow();
    for (const label of [w.position, w.caller, w.wait, w.move_to]) {
      const th = document.createElement("th"); th.scope = "col"; th.textContent = label; head.append(th);
    }
    const body = table.createTBody();
    for (const c of q.calls) {
      const tr = body.insertRow(); tr.dataset.interaction = c.interaction_id;
      const pos = tr.insertCell(); pos.dataset.k = "position"; pos.textContent = c.position;
      const who = tr.insertCell(); who.dataset.k = "caller";
      who.textContent = (c.caller ?? w.unknown) + (c.ringing ? ` (${w.ringing})` : "");
      const wait = tr.insertCell(); wait.dataset.k = "wait"; wait.dataset.since = c.waiting_since;
      wait.textContent = duration(now - c.waiting_since);
      const act = tr.insertCell();
      const sel = document.createElement("select");
      sel.id = `move-to-${c.interaction_id}`;
      sel.setAttribute("aria-label", `${w.move_to}: ${c.caller ?? c.interaction_id}`);
      for (const other of board.queues) {
        if (other.id !== q.id) sel.add(new Option(`${other.hotline} — ${other.name}`, other.id));
      }
      // keep the supervisor's choice, unless it is the queue the caller is in now
      if ([...sel.options].some((o) => o.value === chosen.get(sel.id))) sel.value = chosen.get(sel.id);
      const btn = document.createElement("button");
      btn.type = "button"; btn.id = `move-${c.interaction_id}`; btn.textContent = w.move;
      btn.disabled = sel.options.length === 0;
      btn.onclick = async () => {
        try {
          await post(`/api/v1/interactions/${c.interaction_id}/move`, { queue_id: Number(sel.value) });
        } catch (e) { alert(e.message); }
      };
      act.append(sel, " ", btn);
    }
    box.append(table);
  }
  if (focused) document.getElementById(focused)?.focus();
}

function tick() {
  const now = serverNow();
  for (const td of document.querySelectorAll("#queues td[data-k=longest_wait][data-base]")) {
    const waited = parseFloat(td.dataset.base) + (now - boardAt);
    td.textContent = duration(waited);
    td.classList.toggle("alert", waited > parseFloat(td.dataset.limit));
  }
  for (const td of document.querySelectorAll("#waiting td[data-k=wait]")) {
    td.textContent = duration(now - parseFloat(td.dataset.since));
  }
  for (const td of document.querySelectorAll("#operators td[data-k=since]")) {
    td.textContent = duration(now - parseFloat(td.dataset.since));
  }
}

connect(`/ws/wallboard/${page.tenant_id}`, (f) => {
  sawServerTime(f.at);
  document.dispatchEvent(new CustomEvent("hotline:frame", { detail: f }));  // monitor.js
  if (f.type === "wallboard.snapshot") { board = f.data; boardAt = f.at; render(); }
});
setInterval(tick, 1000);
