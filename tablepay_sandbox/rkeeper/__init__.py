"""An R-Keeper 7 XML-interface simulator (cash server side), for tests and the demo.

Speaks `POST /rk7api/v0/xmlinterface.xml` as the real cash server does (Basic auth,
`<RK7Query>` in, `<RK7QueryResult>` out, HTTP 200 for every XML-level outcome) and
keeps visits, orders and payments in `rkeeper.sqlite`. What is implemented, what is
inferred ([I]) and what is left out: docs/sandbox.md.

Modules: `options` (behaviour the sources leave open), `errors` (statuses and numbers),
`xmlio` (parsing with defusedxml, rendering, formats), `seed` (reference data), `store`
(SQLite), `orders` (order documents and their XML), `refs`/`order_commands`/`pay_commands`
(the commands), `commands` (dispatch), `faults` (test faults and locks), `routes` (HTTP).
"""
