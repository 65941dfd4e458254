// The guest's bill page: bill_page.py inlines bill_money.js, bill_api.js, bill_widgets.js and this file as one script.
// It shows GET /bill/{token}/state, polled every 3 s while the tab is visible, and pays a part with
// POST /bill/{token}/shares (docs/split-bill.md). Amounts are integers of minor units throughout;
// only Intl.NumberFormat sees a decimal, as a string. Text goes in with textContent, never as HTML.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const T = JSON.parse($("i18n").textContent);
  const C = JSON.parse($("config").textContent);
  const share = new URLSearchParams(location.search).get("share");
  const api = billApi(C.token, share);
  const POLL_MS = 3000;
  const WAYS_MIN = 2;
  const WAYS_MAX = 20;
  const plural = new Intl.PluralRules(C.locale);

  let state = null;
  let currency = "";
  let m = billMoney(2);
  let formatter = null;
  let busy = false; // a POST is in flight, or the page is leaving for the checkout
  let gone = false;
  let timer = 0;
  let loading = false;
  let spoken = {};
  const choice = { mode: null, ways: WAYS_MIN, pay: 1, items: {}, amountText: "", tip: "none", tipText: "", donate: false };
  const fieldError = { equal: "", items: "", amount: "", remaining: "" };

  function t(key, values) {
    return (T[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }
  function tn(key, n, values) {
    return t(key + (plural.select(n) === "one" ? "_one" : "_other"), Object.assign({ n }, values));
  }
  const show = (element, visible) => {
    element.hidden = !visible;
  };
  let said = [];
  function say(text) {
    // What is said in one moment is read as one message (an error and the bill it brought), and
    // the region is emptied first, so the same words said again are read again.
    if (!said.length) {
      $("announce").textContent = "";
      setTimeout(() => {
        $("announce").textContent = said.join(". ");
        said = [];
      }, 50);
    }
    said.push(text);
  }

  // --- money: integers of minor units (bill_money.js) -----------------------------------------
  function setCurrency(code) {
    if (code === currency) return;
    currency = code;
    m = billMoney(code in C.digits ? C.digits[code] : 2);
    formatter = new Intl.NumberFormat(C.locale, { style: "currency", currency: code, minimumFractionDigits: m.digits, maximumFractionDigits: m.digits });
  }
  const money = (minor) => formatter.format(m.decimal(minor));
  function example() {
    const plain = new Intl.NumberFormat(C.locale, { minimumFractionDigits: m.digits, maximumFractionDigits: m.digits, useGrouping: false });
    return plain.format(m.decimal(12 * m.unit + m.idiv(m.unit, 2)));
  }

  // --- what the guest chose, priced as the service prices it ---------------------------------
  function equalInfo() {
    const fixed = state.split_ways != null;
    const ways = fixed ? state.split_ways : choice.ways;
    return { fixed, ways, left: fixed ? state.equal_shares_left || 0 : ways };
  }
  const lowest = () => Math.min(state.minimum || 1, state.remaining);
  function itemsAmount() {
    return state.lines.reduce((sum, line) => sum + (choice.items[line.sku] || 0) * line.unit_amount, 0);
  }
  function equalAmount() {
    const { left } = equalInfo();
    if (left <= 0) return 0;
    return m.equalShare(state.remaining, left, Math.min(choice.pay, left));
  }
  // {amount, error}: the guest's part of the dishes (null when it cannot be paid) and why not.
  function part() {
    const mode = choice.mode;
    if (mode === "remaining") return { amount: state.remaining, error: "" };
    if (mode === "equal") return equalInfo().left > 0 ? { amount: equalAmount(), error: "" } : { amount: null, error: "" };
    let amount;
    if (mode === "items") {
      amount = itemsAmount();
      if (amount === 0) return { amount: null, error: "" };
    } else if (mode === "amount") {
      if (choice.amountText.trim() === "") return { amount: null, error: "" };
      amount = m.parse(choice.amountText);
      if (amount === null) return { amount: null, error: t("amount_invalid", { example: example() }) };
    } else {
      return { amount: null, error: "" };
    }
    if (amount < lowest()) return { amount: null, error: t("amount_too_small", { min: money(lowest()) }) };
    if (amount > state.remaining) return { amount: null, error: t("amount_too_large", { max: money(state.remaining) }) };
    return { amount, error: "" };
  }
  function tip(amount) {
    if (choice.tip === "custom") {
      if (choice.tipText.trim() === "") return { amount: 0, error: "" };
      const minor = m.parse(choice.tipText);
      return minor === null ? { amount: null, error: t("amount_invalid", { example: example() }) } : { amount: minor, error: "" };
    }
    const pct = Number(choice.tip);
    return { amount: choice.tip === "none" || !(pct >= 0) ? 0 : m.percentOf(amount, pct), error: "" };
  }
  function quote() {
    const mine = part();
    if (mine.amount === null) return { part: mine, tip: { amount: null, error: "" }, donation: 0, total: null };
    const tipped = tip(mine.amount);
    if (tipped.amount === null) return { part: mine, tip: tipped, donation: 0, total: null };
    const donation = state.donations && choice.donate ? m.roundUp(mine.amount + tipped.amount) : 0;
    return { part: mine, tip: tipped, donation, total: mine.amount + tipped.amount + donation };
  }

  // Keep what the guest chose where the fresh state still allows it.
  function keepValidChoices() {
    if (state.split_ways != null) choice.ways = state.split_ways;
    choice.ways = Math.max(WAYS_MIN, Math.min(WAYS_MAX, choice.ways));
    choice.pay = Math.max(1, Math.min(choice.pay, equalInfo().left || 1));
    const free = Object.fromEntries(state.lines.map((line) => [line.sku, line.free]));
    for (const sku of Object.keys(choice.items)) {
      choice.items[sku] = Math.min(choice.items[sku], free[sku] || 0);
      if (!choice.items[sku]) delete choice.items[sku];
    }
    if (choice.tip !== "none" && choice.tip !== "custom" && !state.tip_presets.includes(Number(choice.tip))) choice.tip = "none";
    if (!state.donations) choice.donate = false;
    if (choice.mode && !available(choice.mode)) choice.mode = null;
  }
  function available(mode) {
    if (state.status !== "open" || state.remaining <= 0) return false;
    if (mode === "equal") return state.split_ways == null || (state.equal_shares_left || 0) > 0;
    if (mode === "items") return state.lines.some((line) => line.free > 0);
    return true;
  }

  // --- drawing ------------------------------------------------------------------------------
  const { el } = billWidgets;
  function stepper(onStep) {
    const widget = billWidgets.stepper(onStep);
    const set = (value, low, high, name) => widget.set(value, low, high, t("fewer", { name }), t("more", { name }));
    return { root: widget.root, set };
  }
  const waysStepper = stepper((delta) => {
    choice.ways = Math.max(WAYS_MIN, Math.min(WAYS_MAX, choice.ways + delta));
    choice.pay = Math.min(choice.pay, choice.ways);
    changed(t("ways") + ": " + t("ways_count", { n: choice.ways }));
  });
  const sharesStepper = stepper((delta) => {
    choice.pay = Math.max(1, Math.min(equalInfo().left, choice.pay + delta));
    changed(t("pay_shares") + ": " + choice.pay);
  });
  $("ways-row").append(waysStepper.root);
  $("shares-row").append(sharesStepper.root);
  const rows = new Map(); // sku -> its row's elements, kept across polls (focus stays on its button)

  function lineRow(line) {
    let row = rows.get(line.sku);
    if (!row) {
      const li = el("li", "line");
      const main = el("div", "line-main");
      const name = el("div", "line-name");
      const price = el("div", "line-price");
      const chips = el("div", "chips");
      main.append(name, price);
      const amount = el("div", "line-amount");
      const step = stepper((delta) => {
        const current = rows.get(line.sku).line;
        const next = Math.max(0, Math.min(current.free, (choice.items[line.sku] || 0) + delta));
        if (next) choice.items[line.sku] = next;
        else delete choice.items[line.sku];
        changed(t("line_chosen", { name: current.name, n: next }));
      });
      li.append(main, amount, chips, step.root);
      row = { li, name, price, chips, amount, step };
      rows.set(line.sku, row);
    }
    row.line = line;
    return row;
  }
  function drawLines() {
    const picking = choice.mode === "items";
    const list = $("lines");
    const seen = new Set();
    for (const line of state.lines) {
      const row = lineRow(line);
      seen.add(line.sku);
      row.name.textContent = line.name;
      row.price.textContent = line.quantity + " \u00d7 " + money(line.unit_amount);
      row.chips.replaceChildren();
      if (line.paid) row.chips.append(el("span", "chip paid" + (picking ? " locked" : ""), t("line_paid", { n: line.paid })));
      if (line.held) row.chips.append(el("span", "chip held" + (picking ? " locked" : ""), t("line_held", { n: line.held })));
      if (line.free) row.chips.append(el("span", "chip free", t("line_free", { n: line.free })));
      const chosen = choice.items[line.sku] || 0;
      row.step.set(chosen, 0, line.free, line.name);
      show(row.step.root, picking && line.free > 0);
      row.amount.textContent = picking ? (chosen ? money(chosen * line.unit_amount) : "") : money(line.quantity * line.unit_amount);
      list.append(row.li); // in the state's order; append moves an existing row
    }
    for (const [sku, row] of rows) {
      if (!seen.has(sku)) {
        row.li.remove();
        rows.delete(sku);
      }
    }
    show($("dishes-pick"), picking);
  }
  function drawTipPresets() {
    const box = $("tip-presets");
    const wanted = state.tip_presets.join(",");
    if (box.dataset.presets !== wanted) {
      box.replaceChildren();
      for (const pct of state.tip_presets) {
        const label = el("label", "option");
        const input = el("input");
        input.type = "radio";
        input.name = "tip";
        input.value = String(pct);
        label.append(input, el("span", "option-label", t("tip_percent", { pct })), el("span", "option-sub"));
        box.append(label);
      }
      box.dataset.presets = wanted;
    }
    for (const input of document.querySelectorAll('input[name="tip"]')) input.checked = input.value === choice.tip;
  }
  function setError(id, text) {
    $(id).textContent = text;
    show($(id), Boolean(text));
  }
  function receiptText(receipt) {
    if (receipt.status === "paid" || receipt.status === "partially_refunded") {
      const values = { total: money(receipt.amount_total), tip: money(receipt.tip_amount), donation: money(receipt.donation_amount) };
      const key = "receipt_paid" + (receipt.tip_amount ? "_tip" : "") + (receipt.donation_amount ? "_donation" : "");
      return [t(key, values), "ok"];
    }
    if (receipt.status === "refunded") return [t("receipt_refunded"), "info"];
    if (["failed", "cancelled", "canceled", "expired"].includes(receipt.status)) return [t("receipt_failed"), "bad"];
    return [t("receipt_pending"), "wait"];
  }
  function banner(id, text, tone) {
    const node = $(id);
    node.textContent = text || "";
    node.className = "banner " + (tone || "");
    show(node, Boolean(text));
  }

  function draw() {
    show($("loading"), !state && !gone);
    if (gone) {
      banner("notice", t("gone"), "bad");
      banner("receipt", "");
      for (const id of ["bill", "choose", "dishes", "tip", "donation", "mine", "paybar"]) show($(id), false);
      return;
    }
    if (!state) return;
    const open = state.status === "open";
    const receipt = share && state.receipt ? receiptText(state.receipt) : null;
    banner("receipt", receipt && receipt[0], receipt && receipt[1]);
    if (state.status === "settled") banner("notice", t("settled"), "ok");
    else if (state.status === "stopped") banner("notice", t("stopped"), "info");
    else if (state.remaining <= 0) banner("notice", t("nothing_left"), "wait");
    else banner("notice", "");

    show($("bill"), true);
    $("total").textContent = money(state.total);
    $("paid").textContent = money(state.paid);
    $("left").textContent = money(state.remaining);
    $("progress").max = Math.max(1, state.total);
    $("progress").value = state.paid;
    $("paid-of").textContent = t("paid_of", { paid: money(state.paid), total: money(state.total) });
    $("held").textContent = state.held > 0 ? t("held") + ": " + money(state.held) : "";
    show($("held"), state.held > 0);
    $("guests").textContent = state.guests_paying > 0 ? tn("guests_paying", state.guests_paying) : "";

    const choosing = open && state.remaining > 0;
    show($("choose"), choosing);
    for (const input of document.querySelectorAll('input[name="mode"]')) {
      input.disabled = !available(input.value) || busy;
      input.checked = input.value === choice.mode;
    }
    $("amount-remaining").textContent = money(state.remaining);
    const eq = equalInfo();
    $("amount-equal").textContent = eq.left > 0 ? money(equalAmount()) : "";
    $("amount-items").textContent = itemsAmount() ? money(itemsAmount()) : "";
    const typed = choice.mode === "amount" ? part().amount : null;
    $("amount-amount").textContent = typed ? money(typed) : "";

    show($("panel-equal"), choosing && choice.mode === "equal");
    show($("ways-row"), !eq.fixed);
    show($("ways-fixed"), eq.fixed);
    $("ways-fixed").textContent = eq.fixed ? t("ways_fixed", { n: eq.ways, left: eq.left }) : "";
    waysStepper.set(choice.ways, WAYS_MIN, WAYS_MAX, t("ways"));
    sharesStepper.set(choice.pay, 1, Math.max(1, eq.left), t("pay_shares"));
    $("one-share").textContent = eq.left > 0 ? t("one_share", { amount: money(m.idiv(state.remaining, eq.left)) }) : "";

    show($("panel-amount"), choosing && choice.mode === "amount");
    $("amount-hint").textContent = t("amount_hint", { min: money(lowest()), max: money(state.remaining) });

    show($("dishes"), state.lines.length > 0);
    drawLines();

    const q = quote();
    const localError = q.part.error;
    setError("equal-error", fieldError.equal);
    setError("items-error", fieldError.items || (choice.mode === "items" ? localError : ""));
    setError("amount-error", fieldError.amount || (choice.mode === "amount" ? localError : ""));
    $("amount-input").setAttribute("aria-invalid", String(Boolean(fieldError.amount || (choice.mode === "amount" && localError))));

    const chosen = choosing && choice.mode !== null;
    show($("tip"), chosen);
    drawTipPresets();
    const basis = q.part.amount || 0;
    for (const label of $("tip-presets").children) {
      const pct = Number(label.querySelector("input").value);
      label.querySelector(".option-sub").textContent = q.part.amount === null ? "" : money(m.percentOf(basis, pct));
    }
    show($("tip-custom-field"), choice.tip === "custom");
    setError("tip-error", q.tip.error);
    $("tip-input").setAttribute("aria-invalid", String(Boolean(q.tip.error)));

    const canRoundUp = q.total !== null && m.roundUp(q.part.amount + q.tip.amount) > 0;
    show($("donation"), chosen && Boolean(state.donations) && m.digits > 0);
    $("donate").checked = choice.donate;
    $("donate").disabled = busy || (!canRoundUp && !choice.donate);
    $("donate-text").textContent = t("donation_round_up", { partner: state.donation_partner || "" });
    $("donate-amount").textContent = q.total !== null ? "+" + money(m.roundUp(q.part.amount + q.tip.amount)) : "";
    show($("donate-whole"), q.total !== null && !canRoundUp);

    show($("mine"), chosen && q.total !== null);
    if (q.total !== null) {
      $("mine-part").textContent = money(q.part.amount);
      $("mine-tip").textContent = money(q.tip.amount);
      $("mine-donation").textContent = money(q.donation);
      show($("mine-donation"), q.donation > 0);
      show($("mine-donation-l"), q.donation > 0);
      $("mine-total").textContent = money(q.total);
    }
    show($("paybar"), choosing);
    setError("pay-error", fieldError.remaining);
    const pay = $("pay");
    pay.disabled = busy || !chosen || q.total === null;
    pay.textContent = busy ? t("paying") : chosen && q.total !== null ? t("pay", { amount: money(q.total) }) : t("pay_choose");
  }

  function speakChanges() {
    const now = {
      guests: state.guests_paying > 0 ? tn("guests_paying", state.guests_paying) : "",
      paid: t("paid_of", { paid: money(state.paid), total: money(state.total) }),
      notice: $("notice").hidden ? "" : $("notice").textContent,
      receipt: $("receipt").hidden ? "" : $("receipt").textContent,
    };
    const news = Object.keys(now).filter((key) => now[key] && now[key] !== spoken[key]).map((key) => now[key]);
    spoken = now;
    if (news.length) say(news.join(". "));
  }
  function applyState(fresh) {
    state = Object.assign({ lines: [], tip_presets: [], paid_shares: [] }, fresh);
    setCurrency(state.currency);
    keepValidChoices();
    draw();
    speakChanges();
  }
  function clearErrors() {
    for (const key of Object.keys(fieldError)) fieldError[key] = "";
  }
  function changed(announcement) {
    clearErrors();
    draw();
    if (announcement) say(announcement);
  }

  // --- the network --------------------------------------------------------------------------
  const final = () => gone || (state && state.status !== "open" && !(share && state.receipt && receiptText(state.receipt)[1] === "wait"));
  function schedule() {
    clearTimeout(timer);
    if (!document.hidden && !final() && !busy) timer = setTimeout(load, POLL_MS);
  }
  async function load() {
    clearTimeout(timer);
    if (loading) return;
    loading = true;
    try {
      const { status, data } = await api.state();
      if (status === 404) gone = true;
      else if (status === 200 && data) applyState(data);
      show($("conn"), status !== 200 && status !== 404 && status !== 429);
    } catch (error) {
      show($("conn"), Boolean(state));
      if (!state) $("loading").textContent = t("conn_lost");
    } finally {
      loading = false;
      draw();
      if (gone) say(t("gone"));
      schedule();
    }
  }
  function body() {
    const q = quote();
    const payload = { mode: choice.mode, tip_amount: q.tip.amount, donation_amount: q.donation, version: state.version };
    if (choice.mode === "equal") Object.assign(payload, { shares: equalInfo().ways, pay_shares: choice.pay });
    if (choice.mode === "items") {
      payload.items = state.lines.filter((line) => choice.items[line.sku]).map((line) => ({ sku: line.sku, quantity: choice.items[line.sku] }));
    }
    if (choice.mode === "amount") payload.amount = q.part.amount;
    return payload;
  }
  function failed(text, where) {
    fieldError[where] = text;
    say(text);
  }
  async function pay() {
    if (busy || !state || quote().total === null) return;
    busy = true;
    clearTimeout(timer);
    clearErrors();
    draw();
    const where = choice.mode in fieldError ? choice.mode : "remaining";
    let answer;
    try {
      answer = await api.share(body());
    } catch (error) {
      busy = false;
      failed(t("err_network"), "remaining");
      draw();
      schedule();
      return;
    }
    const { status, data } = answer;
    const message = api.message(data);
    const target = status === 201 && data ? api.checkoutUrl(data.checkout_url) : null;
    if (target) {
      location.assign(target); // busy stays true: the button stays off while the checkout opens
      return;
    }
    busy = false;
    if (status === 409) {
      failed(message || t("err_changed"), "remaining");
      if (data && data.state) applyState(data.state);
    } else if (status === 422) failed(message || t("err_generic"), where);
    else if (status === 429) failed(t("err_429"), "remaining");
    else if (status === 404) {
      gone = true;
      say(t("gone"));
    } else failed(t("err_generic"), "remaining");
    draw();
    schedule();
  }

  // --- wiring -------------------------------------------------------------------------------
  for (const input of document.querySelectorAll('input[name="mode"]')) {
    input.addEventListener("change", () => {
      choice.mode = input.value;
      $("dishes").open = choice.mode === "items"; // the dishes to pick, or out of the way of the tip
      changed("");
    });
  }
  $("tip").addEventListener("change", (event) => {
    if (event.target.name !== "tip") return;
    choice.tip = event.target.value;
    changed("");
    if (choice.tip === "custom") $("tip-input").focus();
  });
  $("amount-input").addEventListener("input", (event) => {
    choice.amountText = event.target.value;
    changed("");
  });
  $("tip-input").addEventListener("input", (event) => {
    choice.tipText = event.target.value;
    changed("");
  });
  $("donate").addEventListener("change", (event) => {
    choice.donate = event.target.checked;
    changed("");
  });
  $("pay").addEventListener("click", pay);
  document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : load()));
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      busy = false; // back from the checkout: the page may pay again
      load();
    }
  });
  load();
})();
