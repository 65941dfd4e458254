// Small pieces of the bill page's UI that know nothing of bills: an element, a -/+ stepper.
// bill_page.py inlines this file before bill_page.js. Text is set with textContent, never as HTML.
const billWidgets = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // Two 48 px buttons around a count; `onStep(-1 | 1)` on a tap. `set` shows a value, turns a
  // button off at its end of [low, high], and names the buttons for a screen reader.
  function stepper(onStep) {
    const root = el("div", "stepper");
    const minus = el("button", "step", "\u2212");
    const out = el("output", "", "0");
    const plus = el("button", "step", "+");
    minus.type = plus.type = "button";
    minus.addEventListener("click", () => onStep(-1));
    plus.addEventListener("click", () => onStep(1));
    root.append(minus, out, plus);
    function set(value, low, high, fewerLabel, moreLabel) {
      out.textContent = String(value);
      minus.disabled = value <= low;
      plus.disabled = value >= high;
      minus.setAttribute("aria-label", fewerLabel);
      plus.setAttribute("aria-label", moreLabel);
    }
    return { root, set };
  }
  return { el, stepper };
})();
