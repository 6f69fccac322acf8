"""The handoff: handing a lead over, routing, the SLA and its clock, accept / reject / recycle, disputes."""
