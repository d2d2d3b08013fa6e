// Search-as-you-type for the pickers of the management forms (templates/manage/_picker.html).
// The page holds only what is chosen, as ticked boxes or radio buttons under the field's
// own name; this adds a search box that asks the server for a few matches and adds the
// one picked as one more ticked box. The form posts exactly what it posted without it.
(function () {
  "use strict";

  var DELAY_MS = 200;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function setUp(field, number) {
    var source = field.dataset.picker;
    var name = field.dataset.name;
    var kind = field.dataset.kind;
    var chosenBox = field.querySelector(".picker-chosen");
    var baseId = (field.id || "picker") + "-search";
    var listId = baseId + "-results-" + number;

    var box = element("div", "picker-search");
    var label = element("label", "field-label", field.dataset.searchLabel);
    label.htmlFor = baseId;
    var input = element("input", "input");
    input.type = "search";
    input.id = baseId;
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    var list = element("ul", "picker-results");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", field.dataset.searchLabel);
    list.hidden = true;
    var status = element("p", "picker-status");
    status.setAttribute("aria-live", "polite");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(list);
    box.appendChild(status);
    chosenBox.parentNode.insertBefore(box, chosenBox.nextSibling);

    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function inputFor(id) {
      var boxes = chosenBox.querySelectorAll("input");
      for (var i = 0; i < boxes.length; i += 1) {
        if (boxes[i].value === String(id)) return boxes[i];
      }
      return null;
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      for (var i = 0; i < options.length; i += 1) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(item) {
      var existing = inputFor(item.id);
      if (existing) {
        existing.checked = true;
      } else {
        var row = element("label", "check");
        var tick = document.createElement("input");
        tick.type = kind;
        tick.name = name;
        tick.value = String(item.id);
        tick.checked = true;
        var text = element("span", "", item.label);
        if (item.detail) {
          text.appendChild(document.createTextNode(" "));
          text.appendChild(element("small", "picker-detail", item.detail));
        }
        row.appendChild(tick);
        row.appendChild(document.createTextNode(" "));
        row.appendChild(text);
        chosenBox.appendChild(row);
      }
      status.textContent = field.dataset.added + " " + item.label;
      input.value = "";
      close();
      input.focus();
    }

    function show(found) {
      close();
      items = found.filter(function (item) {
        var existing = inputFor(item.id);
        return !(existing && existing.checked);
      });
      if (!items.length) {
        status.textContent = field.dataset.nothing;
        return;
      }
      status.textContent = "";
      items.forEach(function (item, index) {
        var option = element("li", "picker-option", item.label);
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        if (item.detail) {
          option.appendChild(document.createTextNode(" "));
          option.appendChild(element("small", "picker-detail", item.detail));
        }
        // mousedown rather than click: the search box keeps the focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(item);
        });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function search() {
      var term = input.value.trim();
      var mine = (asked += 1);
      var url = source + (source.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(term);
      status.textContent = field.dataset.searching;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") < 0) throw new Error("refused");
          return response.json();
        })
        .then(function (body) {
          if (mine === asked) show(body.items || []);
        })
        .catch(function () {
          if (mine === asked) {
            close();
            status.textContent = field.dataset.failed;
          }
        });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY_MS);
    }

    input.addEventListener("input", later);
    input.addEventListener("focus", function () {
      if (list.hidden) later();
    });
    input.addEventListener("blur", function () {
      window.clearTimeout(timer);
      asked += 1; // an answer arriving now is not shown
      close();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          later();
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + items.length) % items.length);
      } else if (event.key === "Enter") {
        // Enter picks; it never sends the form from the search box.
        event.preventDefault();
        if (active >= 0 && items[active]) choose(items[active]);
        else if (items.length === 1) choose(items[0]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
  }

  var fields = document.querySelectorAll("fieldset[data-picker]");
  for (var i = 0; i < fields.length; i += 1) setUp(fields[i], i);
})();
