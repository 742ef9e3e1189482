// The html-validate configuration every browser test validates pages with.

export const config = {
  extends: ["html-validate:recommended"],
  rules: {
    // No rule is switched off. One is configured: form-dup-name allows a
    // shared name for radios and buttons by default but not for checkboxes.
    // The search filters are groups of checkboxes sharing a name
    // (name="care_setting" value="hospital", name="care_setting"
    // value="pharmacy", ...), which is how HTML submits several values for
    // one field (?care_setting=hospital&care_setting=pharmacy), as the NHS.UK
    // checkboxes component documents it and as the site's URLs and API take
    // them. Duplicate names between any other controls remain errors.
    "form-dup-name": ["error", { shared: ["radio", "checkbox", "button", "reset", "submit"] }],
  },
};
