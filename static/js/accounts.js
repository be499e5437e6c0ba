// Profile form niceties; the form works without this file.
(function () {
  "use strict";
  var insta = document.getElementById("id_instagram_id");
  if (insta) {
    insta.addEventListener("blur", function () {
      var value = insta.value.trim();
      if (value && value.charAt(0) !== "@") insta.value = "@" + value;
      else insta.value = value;
    });
  }
  var zip = document.getElementById("id_zip");
  if (zip) {
    zip.addEventListener("input", function () {
      zip.value = zip.value.replace(/[^0-9-]/g, "").slice(0, 10);
    });
  }
})();
