"""GNU Radio blocks over linksim's numpy code. Importing this package needs GNU Radio."""
