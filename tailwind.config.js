/** @type {import('tailwindcss').Config} */
module.exports = {
  // Class names are read from the templ sources and the upload module.
  content: ["./views/**/*.templ", "./views/**/*.go", "./static/js/app.js", "./static/js/upload.js", "./static/js/files.js"],
  darkMode: "media",
  theme: {
    extend: {
      fontFamily: {
        sans: ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
      },
      colors: {
        brand: {
          50: "#eef4ff", 100: "#dbe6fe", 200: "#bfd3fe", 300: "#93b4fd", 400: "#6090fa",
          500: "#3b6ef6", 600: "#2552eb", 700: "#1d3fd8", 800: "#1e35af", 900: "#1e328a", 950: "#172054",
        },
      },
    },
  },
  plugins: [require("@tailwindcss/forms")],
};
