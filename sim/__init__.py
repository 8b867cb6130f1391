"""advocacy-sim: how advocacy messages spread through networks of creators and their audiences."""
