"""The vendor's order desk: confirm with promises, change them, ship, deliver, cancel;
and the promise ledger that measures how well promises are kept."""
