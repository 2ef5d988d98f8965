"""What staff do (the REST API and the console both call it), and who they are."""
