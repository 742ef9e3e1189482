// Enhancements only: every page works without this script.
import { initAll } from "./nhsuk-frontend.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// Suggestions under search boxes marked data-suggest: an ARIA combobox
// listing entry titles as you type; choosing one opens the entry.
let suggestCount = 0;
function setUpSuggest(input) {
  const listId = `suggest-${++suggestCount}`;
  const list = document.createElement("ul");
  list.id = listId;
  list.className = "app-suggest__list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  input.parentElement.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listId);
  let options = [];
  let active = -1;
  let timer = null;
  let latest = 0;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (i) => {
    options.forEach((o, j) => o.setAttribute("aria-selected", j === i ? "true" : "false"));
    active = i;
    if (i >= 0) input.setAttribute("aria-activedescendant", options[i].id);
    else input.removeAttribute("aria-activedescendant");
  };
  const open = (suggestions) => {
    list.replaceChildren();
    options = suggestions.map((s, i) => {
      const li = document.createElement("li");
      li.id = `${listId}-${i}`;
      li.className = "app-suggest__option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.slug = s.slug;
      li.textContent = s.title;
      const type = document.createElement("span");
      type.className = "app-suggest__type";
      type.textContent = s.type === "api" ? " (API)" : " (standard)";
      li.appendChild(type);
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        window.location.assign(`/standards/${encodeURIComponent(s.slug)}`);
      });
      list.appendChild(li);
      return li;
    });
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
    active = -1;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return close();
    timer = setTimeout(async () => {
      const mine = ++latest;
      try {
        const response = await fetch(`/api/v1/suggest?q=${encodeURIComponent(q)}`);
        const body = await response.json();
        if (mine === latest) open(body.suggestions || []);
      } catch {
        close();
      }
    }, 150);
  });
  input.addEventListener("keydown", (e) => {
    if (!options.length) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      highlight((active + 1) % options.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      highlight(active <= 0 ? options.length - 1 : active - 1);
    } else if (e.key === "Escape") {
      // Only close the suggestions: the browser would also empty a
      // type=search box, losing the words typed.
      e.preventDefault();
      close();
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      window.location.assign(`/standards/${encodeURIComponent(options[active].dataset.slug)}`);
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}
document.querySelectorAll("input[data-suggest]").forEach(setUpSuggest);

// The search page's filters and sort update the results in place: the
// same page is fetched for the new address and its parts swapped in, the
// address bar keeps the shareable address, and focus stays put.
const form = document.querySelector("form[data-live-search]");
if (form) {
  const swap = async (url, push) => {
    const focused = document.activeElement && document.activeElement.id;
    let html;
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      html = await response.text();
    } catch {
      window.location.assign(url);
      return;
    }
    const next = new DOMParser().parseFromString(html, "text/html");
    for (const id of ["filter-groups", "search-results"]) {
      const mine = document.getElementById(id);
      const theirs = next.getElementById(id);
      if (mine && theirs) mine.replaceChildren(...theirs.childNodes);
    }
    const count = next.getElementById("result-count");
    document.getElementById("result-count").textContent = count ? count.textContent : "";
    document.title = next.title;
    if (push) history.pushState({ live: true }, "", url);
    for (const id of ["filter-groups", "search-results"]) {
      const scope = document.getElementById(id);
      if (scope) initAll({ scope });
    }
    if (focused) document.getElementById(focused)?.focus();
  };
  const addressOf = () => {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      if (String(v).trim() !== "" && !(k === "sort" && v === "relevance")) params.append(k, String(v));
    }
    const query = params.toString();
    return query ? `/search?${query}` : "/search";
  };
  form.addEventListener("change", (e) => {
    if (e.target.matches("input[type=checkbox], select")) swap(addressOf(), true);
  });
  window.addEventListener("popstate", () => swap(window.location.href, false));
}

// On a phone the filters start folded behind their "Filters" control, so
// the results come first; with JavaScript off, or on a wider screen, they
// stay open.
const filterPanel = document.getElementById("filter-panel");
if (filterPanel && window.matchMedia("(max-width: 640px)").matches) {
  filterPanel.open = false;
}
