"""The relationship as the customer sees it and as the account manager reviews it:
the vendor's scorecard for the customer, the customer's rating of the relationship,
and relationship reviews per account and period."""
