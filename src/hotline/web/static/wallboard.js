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

function tick() {
  const now = serverNow();
  for (const td of document.querySelectorAll("#queues td[data-k=longest_wait][data-base]")) {
    const waited = parseFloat(td.dataset.base) + (now - boardAt);
    td.textContent = duration(waited);
    td.classList.toggle("alert", waited > parseFloat(td.dataset.limit));
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
