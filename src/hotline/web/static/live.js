// One WebSocket per page, reconnecting with back-off; frames follow web/live_events.py (v1).
export function connect(path, onFrame) {
  const badge = document.getElementById("live");
  let delay = 500;
  function open() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${path}`);
    ws.onopen = () => { delay = 500; badge.textContent = badge.dataset.ok; badge.dataset.state = "ok"; };
    ws.onmessage = (m) => {
      const frame = JSON.parse(m.data);
      if (frame.v !== 1) return;  // a newer server: reload to get matching pages
      onFrame(frame);
    };
    ws.onclose = () => {
      badge.textContent = badge.dataset.retry; badge.dataset.state = "retry";
      setTimeout(open, delay); delay = Math.min(delay * 2, 10000);
    };
  }
  open();
}

// REST calls with the page cookie; the header is the API's CSRF guard for cookie writes.
export async function post(url, body) {
  const r = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Requested-With": "fetch"},
    body: JSON.stringify(body ?? {}),
  });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

export function pageData() {
  return JSON.parse(document.getElementById("page-data").textContent);
}

// Server time minus browser time, from each frame's "at" (the clocks of a laptop drift).
let skew = 0;
export function sawServerTime(at) { skew = at - Date.now() / 1000; }
export function serverNow() { return Date.now() / 1000 + skew; }

export function duration(seconds) {
  if (seconds == null) return "—";
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60), r = s % 60;
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(r).padStart(2, "0")}`
                 : `${m}:${String(r).padStart(2, "0")}`;
}
