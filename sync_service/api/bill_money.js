// Money on the bill page, as tablepay_domain computes it: integers of minor units, never a float.
// bill_page.py inlines this file before bill_page.js, in the page's one script; the tests compare
// each function with the domain's own (tests/service/test_bill_page.py).
const billMoney = (digits) => {
  const unit = 10 ** digits; // minor units in one whole unit: tips.whole_unit
  const step = digits === 3 ? 10 : 1; // money.charge_step: Stripe moves 3-decimal currencies in tens
  const idiv = (n, d) => (n - (n % d)) / d; // integer division of non-negative integers, exact
  return {
    digits,
    unit,
    idiv,
    // "12.50" for 1250 with 2 digits: what Intl.NumberFormat is given (a string: exact, no float)
    decimal(minor) {
      const sign = minor < 0 ? "-" : "";
      const text = String(Math.abs(minor)).padStart(digits + 1, "0");
      return digits ? sign + text.slice(0, -digits) + "." + text.slice(-digits) : sign + text;
    },
    // Money.percent: pct % of the amount, rounded half up to the chargeable step.
    percentOf(amount, pct) {
      return idiv(amount * pct * 2 + 100 * step, 200 * step) * step;
    },
    // tips.round_up_amount: what brings the total up to the next whole unit; 0 when already whole.
    roundUp(total) {
      return (unit - (total % unit)) % unit;
    },
    // bill.quote's equal share: k of the `left` shares; the last one takes the cents the others leave.
    equalShare(remaining, left, k) {
      return k === left ? remaining : idiv(remaining, left) * k;
    },
    // "12", "12.5", "12,50" -> minor units by string arithmetic; null when it is no chargeable amount.
    parse(text) {
      const match = /^(\d{0,9})(?:[.,](\d*))?$/.exec(String(text).replace(/[\s\u00a0\u202f]/g, ""));
      if (!match || (match[1] === "" && !match[2]) || (match[2] || "").length > digits) return null;
      const minor = Number(match[1] || "0") * unit + Number((match[2] || "").padEnd(digits, "0") || "0");
      return minor % step === 0 ? minor : null;
    },
  };
};
