// The two requests the bill page makes (docs/split-bill.md), to its own origin only (connect-src 'self').
// bill_page.py inlines this file before bill_page.js. Each call answers {status, data} (data: the JSON
// body, or null) and throws only when no answer came: the network failed or the time ran out.
const billApi = (token, share) => {
  const base = "/bill/" + encodeURIComponent(token);
  const stateUrl = base + "/state" + (share ? "?share=" + encodeURIComponent(share) : "");
  const deadline = (ms) => (typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(ms) : undefined);
  async function call(url, init, ms) {
    const response = await fetch(url, Object.assign({ cache: "no-store", signal: deadline(ms) }, init));
    return { status: response.status, data: await response.json().catch(() => null) };
  }
  return {
    state: () => call(stateUrl, { headers: { Accept: "application/json" } }, 10000),
    share: (body) =>
      call(base + "/shares", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      }, 20000),
    // The error's own words, in the guest's terms (the service writes them), or "".
    message: (data) => (data && data.error && typeof data.error.message === "string" ? data.error.message : ""),
    // Where a 201 sends the guest: an http(s) address only (never javascript: or data:), else null.
    checkoutUrl(value) {
      try {
        const url = new URL(String(value), location.href);
        return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
      } catch (error) {
        return null;
      }
    },
  };
};
