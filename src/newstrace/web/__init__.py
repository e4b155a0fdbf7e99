"""The local web app (`newstrace serve`): `newstrace.web.app.create_app(db_path)`."""
