"""`framing-report`: a scored corpus's framing over time and by group, in one offline HTML file."""
