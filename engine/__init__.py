"""The motcua engine: procedures, dossiers and everything SpiffWorkflow. Never imports Flask."""
