"""cXML 1.2: order requests, confirmations, ship notices and PunchOut (see portal/cxml/door.py)."""
