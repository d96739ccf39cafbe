// Embeds ringlog's call-log page in a CRM page with one script tag:
//   <script src="https://ringlog.example.com/ui/embed.js" data-lead-id="5"
//           data-token="uis...." data-height="640"></script>
// data-phone (and data-source) may stand for data-lead-id. The page opens in
// an iframe next to the tag; the token travels in the URL fragment.
(function () {
  'use strict';
  var script = document.currentScript;
  var base = script.src.replace(/embed\.js(\?.*)?$/, '');
  var query = new URLSearchParams();
  [['leadId', 'lead_id'], ['phone', 'phone'], ['source', 'source'], ['agent', 'agent']].forEach(function (p) {
    if (script.dataset[p[0]]) query.set(p[1], script.dataset[p[0]]);
  });
  var frame = document.createElement('iframe');
  frame.src = base + '?' + query.toString() + '#token=' + encodeURIComponent(script.dataset.token || '');
  frame.title = 'Calls';
  frame.style.width = '100%';
  frame.style.height = (script.dataset.height || '640') + 'px';
  frame.style.border = '0';
  frame.setAttribute('allow', 'autoplay');
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
