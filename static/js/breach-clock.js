// The breach form's 72-hour clock, kept current while the page is open. The server already
// wrote the time left (and "Check the time left" asks it again); this only recomputes it when
// the detection time changes, and every minute. Times are typed in the agency's time zone,
// whose offset from UTC the server gives (Asia/Bishkek has no daylight saving).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("breach-clock");
  var input = document.getElementById("detected_at");
  if (!box || !input) { return; }
  var text = box.querySelector(".breach-clock__text");
  var hours = parseInt(box.getAttribute("data-hours"), 10);
  var offset = parseInt(box.getAttribute("data-utc-offset"), 10);
  var pattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/;

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function update() {
    var match = pattern.exec(input.value || "");
    if (!match) { return; }
    var detected = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5]) - offset * 60000;
    var deadline = detected + hours * 3600000;
    var local = new Date(deadline + offset * 60000);
    var shown = local.getUTCFullYear() + "-" + pad(local.getUTCMonth() + 1) + "-" + pad(local.getUTCDate()) +
      " " + pad(local.getUTCHours()) + ":" + pad(local.getUTCMinutes());
    var left = deadline - Date.now();
    if (left < 0) {
      text.textContent = fill(box.getAttribute("data-late"), { limit: hours, deadline: shown });
    } else {
      var minutes = Math.floor(left / 60000);
      text.textContent = fill(box.getAttribute("data-left"), {
        hours: Math.floor(minutes / 60), minutes: minutes % 60, deadline: shown
      });
    }
  }

  input.addEventListener("input", update);
  input.addEventListener("change", update);
  window.setInterval(update, 60000);
});
