// The PunchOut return page: post the cart to the purchasing system at once.
(function () {
  var form = document.querySelector("form[data-auto-submit]");
  if (form) { form.submit(); }
})();
