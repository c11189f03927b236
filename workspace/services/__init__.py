"""The contract's actions, one module per thing a person does: `choosing` (select, accept, decline, cancel),
`phasing` (phasing offers), `funding` (paying into and back out of escrow), `delivery` (files, done, release, the
review clock), `disputes`. `rules` says who may do what now (the Operations menu and every service read it), `locks`
the one order rows are locked in, `history` the status changes and the timeline they write."""
