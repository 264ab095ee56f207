// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "/static/vendor/govuk/govuk-frontend.min.js";

initAll();

// A field that applies only when another answer says so (ui:onlyWhen, written by macros/fields.html as
// data-only-when: [[other field, [values]], ...]) shows only while it applies, as the server would keep it.
// A condition on a field that is not in this form (another page of it) is left to the server: the field shows.
function answerOf(form, name) {
  const inputs = [...form.elements].filter((el) => el.name === name);
  if (inputs.length === 0) return undefined;
  const choice = inputs.find((el) => el.type === "radio" || el.type === "checkbox");
  if (choice) {
    if (choice.type === "checkbox") return choice.checked ? "true" : "false";
    const checked = inputs.find((el) => el.checked);
    return checked ? checked.value : null;
  }
  return inputs[0].value;
}

function applies(form, conditions) {
  return conditions.every(([name, values]) => {
    const answer = answerOf(form, name);
    return answer === undefined || values.map(String).includes(answer);
  });
}

for (const form of document.querySelectorAll("form")) {
  const wrapped = [...form.querySelectorAll("[data-only-when]")].map((el) => ({
    el,
    conditions: JSON.parse(el.dataset.onlyWhen),
  }));
  if (wrapped.length === 0) continue;
  const update = () => {
    for (const { el, conditions } of wrapped) el.hidden = !applies(form, conditions);
  };
  form.addEventListener("change", update);
  update();
}
