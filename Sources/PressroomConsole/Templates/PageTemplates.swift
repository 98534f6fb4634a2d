/// One template per page, rendered inside ``LayoutTemplates``.
enum PageTemplates {
    static let overview = """
    {{>header}}
    {{#body}}
    <div id="live" data-refresh="{{frame.refreshValue}}">
    <div class="tiles">
      <div class="tile"><div class="k">Not yet delivered</div><div class="v">{{totals.lag}}</div></div>
      <div class="tile"><div class="k">In flight</div><div class="v">{{totals.pending}}</div></div>
      <div class="tile"><div class="k">Delayed</div><div class="v">{{totals.delayed}}</div></div>
      <div class="tile{{#totals.hasDead}} bad{{/totals.hasDead}}"><div class="k">Dead letters</div><div class="v">{{totals.dead}}</div></div>
      <div class="tile"><div class="k">Done, last hour</div><div class="v">{{totals.succeeded}}</div></div>
      <div class="tile{{#totals.hasFailed}} bad{{/totals.hasFailed}}"><div class="k">Failed, last hour</div><div class="v">{{totals.failed}}</div></div>
    </div>
    <table class="queues">
      <thead><tr><th>Queue</th><th>State</th><th class="num">Length</th><th class="num">Pending</th><th class="num">Lag</th>
      <th class="num">Oldest pending</th><th class="num">Delayed</th><th class="num">Dead</th><th class="num">Live consumers</th><th>Last hour <span class="legend"><span class="sw ok"></span>done<span class="sw failed"></span>failed</span></th></tr></thead>
      <tbody>
      {{#queues}}
      <tr data-queue="{{name}}">
        <td><strong>{{name}}</strong></td>
        <td><span class="badge {{stateClass}}">{{stateText}}</span></td>
        <td class="num">{{length}}</td>
        <td class="num">{{pending}}</td>
        <td class="num">{{lag}}</td>
        <td class="num">{{oldestPending}}</td>
        <td class="num">{{delayed}}</td>
        <td class="num">{{#hasDead}}<a href="{{deadLink}}">{{dead}}</a>{{/hasDead}}{{^hasDead}}<span class="zero">0</span>{{/hasDead}}</td>
        <td class="num">{{consumers}}</td>
        <td>
          <svg class="chart" width="{{chart.width}}" height="{{chart.height}}" viewBox="0 0 {{chart.width}} {{chart.height}}" role="img" aria-label="{{chart.label}}">
            <line class="base" x1="0" y1="{{chart.height}}" x2="{{chart.width}}" y2="{{chart.height}}"></line>
            {{#chart.bars}}<g><title>{{title}}</title><rect class="ok" x="{{x}}" y="{{okY}}" width="{{w}}" height="{{okH}}"></rect><rect class="failed" x="{{x}}" y="{{failY}}" width="{{w}}" height="{{failH}}"></rect></g>{{/chart.bars}}
          </svg>
          <span class="legend">{{succeeded}} done · {{failed}} failed · peak {{chart.peak}}/min</span>
        </td>
      </tr>
      {{/queues}}
      </tbody>
    </table>
    </div>
    {{/body}}
    {{>footer}}
    """

    static let consumers = """
    {{>header}}
    {{#body}}
    <div id="live" data-refresh="{{frame.refreshValue}}">
    {{^consumers}}<div class="empty">No consumer has sent a heartbeat in the last hour.</div>{{/consumers}}
    {{#hasConsumers}}
    <table>
      <thead><tr><th>Consumer</th><th>State</th><th>Queues</th><th>Version</th><th class="num">Last heartbeat</th><th class="num">In flight</th><th>Jobs in flight</th></tr></thead>
      <tbody>
      {{#consumers}}
      <tr>
        <td class="mono"><strong>{{name}}</strong></td>
        <td><span class="badge {{stateClass}}">{{stateText}}</span></td>
        <td>{{#queues}}<span class="badge plain">{{.}}</span> {{/queues}}</td>
        <td class="mono">{{version}}</td>
        <td class="num">{{lastHeartbeat}}</td>
        <td class="num">{{inFlightCount}}</td>
        <td>
          {{#hasJobs}}
          <table class="inner">
            <thead><tr><th>Job</th><th>Type</th><th>Queue</th><th class="num">Running for</th><th class="num">Deliveries</th></tr></thead>
            <tbody>{{#jobs}}<tr><td class="mono"><a href="{{link}}">{{jobID}}</a></td><td>{{type}}</td><td>{{queue}}</td><td class="num">{{runningFor}}</td><td class="num">{{deliveries}}</td></tr>{{/jobs}}</tbody>
          </table>
          {{/hasJobs}}
          {{^jobs}}<span class="muted">idle</span>{{/jobs}}
          {{#moreJobs}}<div class="muted">and {{moreJobs}} more</div>{{/moreJobs}}
        </td>
      </tr>
      {{/consumers}}
      </tbody>
    </table>
    {{/hasConsumers}}
    </div>
    {{/body}}
    {{>footer}}
    """

    static let deadList = """
    {{>header}}
    {{#body}}
    <form class="filters" method="get" action="/console/dead">
      <label>Queue<select name="queue"><option value="">all queues</option>{{#queueOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}} ({{count}})</option>{{/queueOptions}}</select></label>
      <label>Job type<input type="text" name="type" value="{{filter.type}}" placeholder="any"></label>
      <label>Reason contains<input type="search" name="reason" value="{{filter.reason}}" placeholder="e.g. timeout"></label>
      <label>Older than<input type="text" name="older" value="{{filter.older}}" placeholder="e.g. 1h"></label>
      <label>Newer than<input type="text" name="newer" value="{{filter.newer}}" placeholder="e.g. 7d"></label>
      <button type="submit" class="primary">Filter</button>
      {{#filter.active}}<a class="button" href="/console/dead">Clear</a>{{/filter.active}}
    </form>
    {{#filterError}}<div class="notice bad">{{filterError}}</div>{{/filterError}}
    {{#budgetNote}}<div class="notice warn">{{budgetNote}}</div>{{/budgetNote}}
    {{^letters}}<div class="empty">No dead letters match.</div>{{/letters}}
    {{#hasLetters}}
    <form method="post" action="/console/dead/confirm">
    <input type="hidden" name="csrf" value="{{frame.csrf}}">
    {{#filterFields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/filterFields}}
    {{#frame.canWrite}}
    <div class="actions">
      <span class="muted">Selected:</span>
      <button type="submit" name="action" value="replay-selected" class="primary">Replay</button>
      <button type="submit" name="action" value="purge-selected" class="danger">Purge</button>
      <span class="muted">· All matching this filter (up to {{bulkLimit}}):</span>
      <button type="submit" name="action" value="replay-filter">Replay all…</button>
      <button type="submit" name="action" value="purge-filter" class="danger">Purge all…</button>
    </div>
    {{/frame.canWrite}}
    <table class="dead">
      <thead><tr>{{#frame.canWrite}}<th><input type="checkbox" id="select-all" aria-label="select all"></th>{{/frame.canWrite}}<th>Dead since</th><th>Queue</th><th>Type</th><th>Job</th><th>Class</th><th>Reason</th><th class="num">Attempts</th></tr></thead>
      <tbody>
      {{#letters}}
      <tr>
        {{#frame.canWrite}}<td><input type="checkbox" name="ref" value="{{reference}}" aria-label="select {{reference}}"></td>{{/frame.canWrite}}
        <td class="num" title="{{deadAtFull}}"><a href="{{link}}">{{deadAgo}}</a></td>
        <td>{{queue}}</td>
        <td>{{type}}</td>
        <td class="mono"><a href="{{link}}">{{jobID}}</a></td>
        <td><span class="badge {{classBadge}}">{{errorClass}}</span></td>
        <td class="reason">{{reason}}</td>
        <td class="num">{{attempts}}</td>
      </tr>
      {{/letters}}
      </tbody>
    </table>
    </form>
    {{/hasLetters}}
    <div class="pager">{{#firstLink}}<a class="button" href="{{firstLink}}">Newest</a>{{/firstLink}}{{#nextLink}}<a class="button" href="{{nextLink}}">Older →</a>{{/nextLink}}</div>
    {{/body}}
    {{>footer}}
    """

    static let deadDetail = """
    {{>header}}
    {{#body}}
    {{#letter}}
    <div class="card">
    <dl class="facts">
      <dt>Reference</dt><dd class="mono">{{reference}}</dd>
      <dt>Job</dt><dd class="mono"><a href="{{jobLink}}">{{jobID}}</a></dd>
      <dt>Type</dt><dd>{{type}}</dd>
      <dt>Error class</dt><dd><span class="badge {{classBadge}}">{{errorClass}}</span></dd>
      <dt>Reason</dt><dd>{{reason}}</dd>
      <dt>Attempts</dt><dd>{{attempts}}</dd>
      <dt>Dead-lettered</dt><dd>{{deadAtFull}} ({{deadAgo}} ago)</dd>
      <dt>First failure</dt><dd>{{firstFailure}}</dd>
      <dt>Last failure</dt><dd>{{lastFailure}}</dd>
      <dt>Enqueued</dt><dd>{{enqueued}}</dd>
      <dt>Consumer</dt><dd class="mono">{{consumer}}</dd>
      <dt>Original entry</dt><dd class="mono">{{originalEntry}}</dd>
    </dl>
    </div>
    {{#frame.canWrite}}
    <form method="post" action="/console/dead/apply" class="actions">
      <input type="hidden" name="csrf" value="{{frame.csrf}}">
      <input type="hidden" name="ref" value="{{reference}}">
      <button type="submit" name="action" value="replay" class="primary" id="replay">Replay this job</button>
      <button type="submit" name="action" value="purge" class="danger" id="purge">Purge</button>
    </form>
    {{/frame.canWrite}}
    <h2>Errors by attempt</h2>
    <table>
      <thead><tr><th class="num">Attempt</th><th>When</th><th>Class</th><th>Error</th></tr></thead>
      <tbody>{{#errors}}<tr><td class="num">{{attempt}}</td><td>{{when}}</td><td><span class="badge {{classBadge}}">{{errorClass}}</span></td><td class="reason">{{message}}</td></tr>{{/errors}}</tbody>
    </table>
    <h2>Payload{{#payloadNote}} <span class="badge warn">{{payloadNote}}</span>{{/payloadNote}}</h2>
    <pre class="payload" id="payload">{{payload}}</pre>
    <h2>Other fields</h2>
    <table>
      <tbody>{{#otherFields}}<tr><td class="mono">{{name}}</td><td class="mono reason">{{value}}</td></tr>{{/otherFields}}</tbody>
    </table>
    {{/letter}}
    {{/body}}
    {{>footer}}
    """

    static let confirm = """
    {{>header}}
    {{#body}}
    {{^references}}<div class="empty">Nothing to {{verb}}: no dead letter was selected or matched.</div>{{/references}}
    {{#hasReferences}}
    <div class="notice {{noticeClass}}">{{summary}}</div>
    {{#more}}<div class="notice warn">More entries match than one request handles ({{bulkLimit}}): only the {{count}} oldest are listed; run the action again for the rest.</div>{{/more}}
    <form method="post" action="/console/dead/apply">
      <input type="hidden" name="csrf" value="{{frame.csrf}}">
      <input type="hidden" name="action" value="{{verb}}">
      {{#filterFields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/filterFields}}
      {{#references}}<input type="hidden" name="ref" value="{{.}}">{{/references}}
      <div class="actions">
        <button type="submit" id="confirm" class="{{buttonClass}}">{{buttonText}}</button>
        <a class="button" href="{{backLink}}">Cancel</a>
      </div>
    </form>
    <table><thead><tr><th>Entries (as matched now; later arrivals are not included)</th></tr></thead>
    <tbody>{{#shown}}<tr><td class="mono">{{.}}</td></tr>{{/shown}}{{#hiddenCount}}<tr><td class="muted">and {{hiddenCount}} more</td></tr>{{/hiddenCount}}</tbody></table>
    {{/hasReferences}}
    {{/body}}
    {{>footer}}
    """

    static let result = """
    {{>header}}
    {{#body}}
    <div class="notice {{noticeClass}}" id="result">{{summary}}</div>
    <table>
      <thead><tr><th>Queue</th><th class="num">Done</th><th class="num">Skipped</th></tr></thead>
      <tbody>{{#rows}}<tr><td>{{queue}}</td><td class="num">{{done}}</td><td class="num">{{skipped}}</td></tr>{{/rows}}</tbody>
    </table>
    <div class="actions"><a class="button" href="{{backLink}}">Back to dead letters</a></div>
    {{/body}}
    {{>footer}}
    """

    static let jobs = """
    {{>header}}
    {{#body}}
    <form class="filters" method="get" action="/console/jobs">
      <label>Job id<input type="search" name="id" value="{{query}}" placeholder="job id" autofocus></label>
      <button type="submit" class="primary">Look up</button>
    </form>
    {{#searched}}
    {{^found}}<div class="empty">No state, event or dead letter for this id on any queue (records are kept for the completed TTL; events for the stream's length).</div>{{/found}}
    {{#states}}
    <div class="card">
      <dl class="facts">
        <dt>Queue</dt><dd>{{queue}}</dd>
        <dt>State</dt><dd><span class="badge {{stateClass}}">{{status}}</span></dd>
        {{#attempt}}<dt>Attempt</dt><dd>{{attempt}}</dd>{{/attempt}}
        {{#finishedAt}}<dt>Finished</dt><dd>{{finishedAt}}</dd>{{/finishedAt}}
        {{#consumer}}<dt>Consumer</dt><dd class="mono">{{consumer}}</dd>{{/consumer}}
      </dl>
      {{#result}}<h2>Result</h2><pre class="payload">{{result}}</pre>{{/result}}
    </div>
    {{/states}}
    {{#hasDeadLetters}}
    <h2>Dead letters</h2>
    <table><thead><tr><th>Dead since</th><th>Queue</th><th>Reason</th></tr></thead>
    <tbody>{{#deadLetters}}<tr><td><a href="{{link}}">{{deadAtFull}}</a></td><td>{{queue}}</td><td class="reason">{{reason}}</td></tr>{{/deadLetters}}</tbody></table>
    {{/hasDeadLetters}}
    {{#hasEvents}}
    <h2>Events</h2>
    <table><thead><tr><th>When</th><th>Queue</th><th>Event</th><th class="num">Attempt</th><th>Consumer</th><th>Detail</th></tr></thead>
    <tbody>{{#events}}<tr><td>{{when}}</td><td>{{queue}}</td><td><span class="badge {{eventClass}}">{{event}}</span></td><td class="num">{{attempt}}</td><td class="mono">{{consumer}}</td><td class="reason">{{detail}}</td></tr>{{/events}}</tbody></table>
    {{/hasEvents}}
    <p class="muted">Events are searched among the newest {{eventWindow}} of each queue.</p>
    {{/searched}}
    {{/body}}
    {{>footer}}
    """

    static let orders = """
    {{>header}}
    {{#body}}
    <form class="filters" method="get" action="/console/orders">
      <label>Shop order id<input type="search" name="id" value="{{query}}" placeholder="order id" autofocus></label>
      <button type="submit" class="primary">Show</button>
    </form>
    {{#hasStateCounts}}<div class="tiles">{{#stateCounts}}<div class="tile"><div class="k">{{state}}</div><div class="v">{{count}}</div></div>{{/stateCounts}}</div>{{/hasStateCounts}}
    {{#searched}}{{^order}}<div class="empty">No order with this id.</div>{{/order}}{{/searched}}
    {{#order}}
    <div class="card">
    <dl class="facts">
      <dt>Order</dt><dd class="mono">{{id}}</dd>
      <dt>State</dt><dd><span class="badge {{stateClass}}">{{state}}</span> <span class="muted">version {{version}}</span></dd>
      {{#reference}}<dt>Reference</dt><dd>{{reference}}</dd>{{/reference}}
      {{#shipping}}<dt>Shipping</dt><dd>{{shipping}} to {{country}}</dd>{{/shipping}}
      <dt>Created</dt><dd>{{created}}</dd>
      <dt>Updated</dt><dd>{{updated}}</dd>
      {{#vendor}}<dt>Vendor</dt><dd>{{vendor}}{{#vendorOrderID}} · vendor order <span class="mono">{{vendorOrderID}}</span>{{/vendorOrderID}}</dd>{{/vendor}}
      {{#routing}}<dt>Routing</dt><dd>{{routing}}</dd>{{/routing}}
      {{#shipment}}<dt>Shipment</dt><dd>{{shipment}}</dd>{{/shipment}}
      {{#failure}}<dt>Failure</dt><dd>{{failure}}</dd>{{/failure}}
    </dl>
    </div>
    {{#hasItems}}
    <h2>Lines</h2>
    <table><thead><tr><th class="num">#</th><th>Product</th><th>SKU</th><th class="num">Quantity</th><th>Master</th></tr></thead>
    <tbody>{{#items}}<tr><td class="num">{{index}}</td><td>{{product}}</td><td>{{sku}}</td><td class="num">{{quantity}}</td><td class="mono">{{master}}</td></tr>{{/items}}</tbody></table>
    {{/hasItems}}
    {{#hasCandidates}}
    <h2>Routing candidates</h2>
    <table><thead><tr><th>Vendor</th><th class="num">Priority</th><th class="num">Cost</th><th>Verdict</th></tr></thead>
    <tbody>{{#candidates}}<tr><td>{{vendor}}</td><td class="num">{{priority}}</td><td class="num">{{cost}}</td><td>{{verdict}}</td></tr>{{/candidates}}</tbody></table>
    {{/hasCandidates}}
    {{#hasCalls}}
    <h2>Vendor calls</h2>
    <table><thead><tr><th class="num">#</th><th>When</th><th>Call</th><th>Vendor</th><th class="num">Attempt</th><th>Outcome</th><th class="num">HTTP</th><th class="num">Took</th><th>Detail</th></tr></thead>
    <tbody>{{#calls}}<tr><td class="num">{{seq}}</td><td>{{when}}</td><td>{{operation}}</td><td>{{vendor}}</td><td class="num">{{attempt}}</td><td><span class="badge {{outcomeClass}}">{{outcome}}</span></td><td class="num">{{http}}</td><td class="num">{{took}}</td><td class="reason">{{detail}}</td></tr>{{/calls}}</tbody></table>
    {{/hasCalls}}
    <h2>Timeline</h2>
    <table><thead><tr><th>When</th><th class="num">After</th><th>Step</th><th>Detail</th></tr></thead>
    <tbody>{{#timeline}}<tr><td>{{when}}</td><td class="num">{{after}}</td><td>{{#isState}}<span class="badge {{stateClass}}">{{what}}</span>{{/isState}}{{^isState}}{{what}}{{/isState}}</td><td class="reason mono">{{detail}}</td></tr>{{/timeline}}</tbody></table>
    {{/order}}
    {{/body}}
    {{>footer}}
    """

    static let message = """
    {{>header}}
    {{#body}}<div class="notice {{noticeClass}}">{{text}}</div>{{/body}}
    {{>footer}}
    """
}
